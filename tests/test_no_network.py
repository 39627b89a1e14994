"""The test suite runs with the network off (pytest-socket, switched on in pyproject.toml's addopts).

mocohd must never fetch weights, data or anything else at run time: every model and clip a test
needs is made by the test or shipped in the repository. These tests fail if the guard is
switched off (a dropped ``--disable-socket``, or pytest-socket missing from the dev extra).

The tests that start processes (torchrun's gloo ranks, the notebooks' kernels) run them as
subprocesses, which the guard does not reach: their loopback rendezvous works as it is.
"""

import socket

import pytest


def test_pytest_socket_is_installed_and_on(pytestconfig):
    assert pytestconfig.pluginmanager.hasplugin("socket"), "pytest-socket is missing: pip install -e '.[dev]'"
    assert pytestconfig.getoption("disable_socket"), "--disable-socket was dropped from the pytest addopts"


def test_an_internet_socket_cannot_be_opened():
    with pytest.raises(Exception, match="socket") as caught:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    assert type(caught.value).__name__ == "SocketBlockedError"


def test_an_ipv6_socket_cannot_be_opened_either():
    with pytest.raises(Exception) as caught:
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    assert type(caught.value).__name__ == "SocketBlockedError"


def test_a_connection_to_a_host_is_refused_before_any_packet_leaves():
    with pytest.raises(Exception) as caught:
        socket.create_connection(("192.0.2.1", 80), timeout=0.5)  # TEST-NET-1: never routed anyway
    assert type(caught.value).__name__ == "SocketBlockedError"


def test_unix_sockets_stay_allowed():
    """Local inter-process plumbing (multiprocessing, a kernel's unix-socket transport) still works."""
    a, b = socket.socketpair(socket.AF_UNIX)
    try:
        a.sendall(b"x")
        assert b.recv(1) == b"x"
    finally:
        a.close(), b.close()
