"""One module per input format; each has ``parse(...) -> FormatResult``."""
