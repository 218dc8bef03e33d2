"""Debian's Chromium as the tests and benchmarks drive it: headless, and never online."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # A fake camera and microphone (a test pattern and a beep), allowed without asking: the
    # page's Record control is tested with them (tests/e2e/test_recording.py).
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
]
FAKE_MEDIA_ARGS = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
