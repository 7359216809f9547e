# The IMAP client of fanlic-testkit's Dovecot harness (testkit/src/dovecot.rs):
# one command per run, over TLS verified against the harness's CA.
#
#   imap.py append MAILBOX          (messages on stdin) -> their UIDs
#   imap.py uids MAILBOX            -> the UIDs, one a line
#   imap.py create MAILBOX
#   imap.py fetch MAILBOX UID       -> the message's bytes
#   imap.py move MAILBOX UID TO     (UID MOVE, RFC 6851)
#   imap.py list                    -> the mailboxes, one a line
#   imap.py login METHOD SECRET [starttls]  -> the capabilities after login
#
# Settings come from the environment (FANLIC_IMAP_*). Exit status 3 with the
# server's answer on stderr when the server refuses a command (NO, BAD).
import imaplib
import os
import re
import ssl
import sys

HOST = "127.0.0.1"
USER = os.environ["FANLIC_IMAP_USER"]


class Refused(Exception):
    pass


def quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check(answer, what):
    typ, data = answer
    if typ != "OK":
        raise Refused(f"{what}: {typ} {data!r}")
    return data


def connect(starttls):
    ctx = ssl.create_default_context(cafile=os.environ["FANLIC_IMAP_CA"])
    if starttls:
        m = imaplib.IMAP4(HOST, int(os.environ["FANLIC_IMAP_STARTTLS_PORT"]), timeout=30)
        check(m.starttls(ctx), "STARTTLS")
        return m
    return imaplib.IMAP4_SSL(HOST, int(os.environ["FANLIC_IMAP_PORT"]), ssl_context=ctx, timeout=30)


def logged_in():
    m = connect(False)
    check(m.login(USER, os.environ["FANLIC_IMAP_PASSWORD"]), "LOGIN")
    return m


def sasl(first):
    # The first challenge gets the initial response; a later one (an error
    # report) an empty answer, which ends the exchange.
    sent = []

    def answer(_challenge):
        if sent:
            return b""
        sent.append(1)
        return first

    return answer


def main(args):
    cmd = args[0]
    if cmd == "login":
        method, secret = args[1], args[2]
        m = connect(args[3:] == ["starttls"])
        if method == "password":
            check(m.login(USER, secret), "LOGIN")
        elif method == "xoauth2":
            check(m.authenticate("XOAUTH2", sasl(f"user={USER}\x01auth=Bearer {secret}\x01\x01".encode())), "XOAUTH2")
        elif method == "oauthbearer":
            port = m.port
            first = f"n,a={USER},\x01host={HOST}\x01port={port}\x01auth=Bearer {secret}\x01\x01".encode()
            check(m.authenticate("OAUTHBEARER", sasl(first)), "OAUTHBEARER")
        else:
            raise SystemExit(f"unknown login method {method}")
        caps = check(m.capability(), "CAPABILITY")
        print(caps[0].decode())
        m.logout()
        return
    m = logged_in()
    if cmd == "append":
        # stdin: each message as its length in decimal, a newline, its bytes.
        stdin = sys.stdin.buffer
        while header := stdin.readline():
            message = stdin.read(int(header))
            data = check(m.append(quote(args[1]), None, None, message), "APPEND")
            found = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0] or b"")
            if not found:
                raise SystemExit(f"APPEND answered without APPENDUID: {data!r}")
            print(found.group(1).decode())
    elif cmd == "uids":
        check(m.select(quote(args[1]), readonly=True), "EXAMINE")
        for uid in check(m.uid("SEARCH", "ALL"), "UID SEARCH")[0].split():
            print(uid.decode())
    elif cmd == "create":
        check(m.create(quote(args[1])), "CREATE")
    elif cmd == "fetch":
        check(m.select(quote(args[1]), readonly=True), "EXAMINE")
        data = check(m.uid("FETCH", args[2], "(BODY.PEEK[])"), "UID FETCH")
        parts = [d for d in data if isinstance(d, tuple)]
        if not parts:
            raise Refused(f"UID FETCH {args[2]}: no such message in {args[1]}")
        sys.stdout.buffer.write(parts[0][1])
    elif cmd == "move":
        check(m.select(quote(args[1])), "SELECT")
        check(m.uid("MOVE", args[2], quote(args[3])), "UID MOVE")
    elif cmd == "list":
        for line in check(m.list(), "LIST"):
            found = re.match(rb'\(.*?\) (?:NIL|"(?:[^"\\]|\\.)*") (.*)$', line)
            if not found:
                raise SystemExit(f"cannot read the LIST line {line!r}")
            name = found.group(1)
            if name.startswith(b'"'):
                name = re.sub(rb"\\(.)", rb"\1", name[1:-1])
            print(name.decode())
    else:
        raise SystemExit(f"unknown command {cmd}")
    m.logout()


try:
    main(sys.argv[1:])
except (Refused, imaplib.IMAP4.error) as e:
    print(e, file=sys.stderr)
    sys.exit(3)
