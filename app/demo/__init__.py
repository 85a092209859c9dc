"""The demo dataset (the seed topic page, structured) and its loader."""
