"""The web pages, one module per blueprint; views read input, call an operation and redirect."""
