from guarantor.cli import main

if __name__ == "__main__":  # not when a second process (work.reader's) imports it as __mp_main__
    main()
