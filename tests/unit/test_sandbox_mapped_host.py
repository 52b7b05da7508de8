"""The sandbox front passes a UM mapped domain's Host without its port (issue 22): UM's Domain holds no port and
WordPress drops only 80 and 443, so `elena-blog.localhost:PORT` must reach WordPress as `elena-blog.localhost`."""

from __future__ import annotations

from wpbridge.sandbox.front import mapped_host


def head(host: str) -> bytes:
    return f"GET /wp-json/ HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n".encode()


def test_a_mapped_domain_loses_its_port() -> None:
    assert mapped_host(head("elena-blog.localhost:41873")) == head("elena-blog.localhost")
    assert mapped_host(head("Shop.Example.localhost:41873")) == head("Shop.Example.localhost")


def test_the_network_s_own_hosts_and_others_pass_as_they_came() -> None:
    for host in ("wpbridge.localhost:41873", "alice.wpbridge.localhost:41873", "ALICE.WPBRIDGE.LOCALHOST:1",
                 "127.0.0.1:41873", "localhost:41873", "elena-blog.localhost", "example.org:8080"):
        assert mapped_host(head(host)) == head(host), host
