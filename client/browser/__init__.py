"""Browser adapters: the only code that imports ``js`` or ``pyodide``."""
