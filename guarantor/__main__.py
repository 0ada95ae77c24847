from guarantor.cli import main

main()
