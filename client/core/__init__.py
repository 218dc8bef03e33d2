"""Pure logic: no ``js``, no browser, no framework. Tested on CPython."""
