VERSION = "x"
