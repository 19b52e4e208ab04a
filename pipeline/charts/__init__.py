"""The report's figures (kuviot): one style, one function per figure."""
