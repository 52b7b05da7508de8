"""sandbox/names.py: the host names of a subdomain sandbox resolve here (issue 22, subdomain networks)."""

from __future__ import annotations

from wpbridge.sandbox.names import resolves_to_loopback, with_myhostname


def test_myhostname_goes_after_files() -> None:
    text = "passwd:         files\nhosts:          files dns\nnetworks:       files\n"
    assert with_myhostname(text) == ("passwd:         files\nhosts:          files myhostname dns\n"
                                     "networks:       files\n")


def test_myhostname_already_there_is_left_alone() -> None:
    text = "hosts: files mdns4_minimal [NOTFOUND=return] myhostname dns\n"
    assert with_myhostname(text) == text


def test_no_files_source_puts_it_first_and_no_hosts_line_adds_one() -> None:
    assert with_myhostname("hosts: dns\n") == "hosts: myhostname dns\n"
    assert with_myhostname("passwd: files") == "passwd: files\nhosts:          files myhostname dns\n"


def test_only_loopback_answers_count() -> None:
    assert resolves_to_loopback("127.0.0.1")
    assert not resolves_to_loopback("no-such-host.invalid")
