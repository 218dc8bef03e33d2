"""medpress's QA kit for pytest-playwright suites: the live server (server.py), a page object (page.py), faults to
inflict on the page (faults.py), hidden and frozen pages (lifecycle.py) and the fixtures
that tie them together (plugin.py: ``pytest_plugins = ["tests.e2e.kit.plugin"]``)."""

from tests.e2e.kit.faults import (
    BATTERY_SCRIPT,
    PatchFaults,
    block_python,
    block_webassembly,
    fail_patch,
    go_offline,
    go_online,
    install_battery,
    reload_mid_work,
    set_battery,
    throttle_uploads,
)
from tests.e2e.kit.lifecycle import CdpError, DetachedChromium, cdp_call
from tests.e2e.kit.page import ClipRow, MedpressPage
from tests.e2e.kit.server import (
    LOAD_TIMEOUT_MS,
    LOOPBACK,
    STATE_RECORDER,
    Server,
    guard_outside_requests,
    is_outside,
    running_server,
    stored_uploads,
    upload_metadata,
)

__all__ = [
    "BATTERY_SCRIPT",
    "LOAD_TIMEOUT_MS",
    "LOOPBACK",
    "STATE_RECORDER",
    "CdpError",
    "ClipRow",
    "DetachedChromium",
    "MedpressPage",
    "PatchFaults",
    "Server",
    "block_python",
    "block_webassembly",
    "cdp_call",
    "fail_patch",
    "go_offline",
    "go_online",
    "guard_outside_requests",
    "install_battery",
    "is_outside",
    "reload_mid_work",
    "running_server",
    "set_battery",
    "stored_uploads",
    "throttle_uploads",
    "upload_metadata",
]
