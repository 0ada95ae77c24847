"""Reading what people and strangers hand us: encodings, limits, and the place of every problem."""
