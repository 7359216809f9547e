"""MIME helpers: RFC 2047 words, base64 and quoted-printable bodies, as the clients write them."""
import base64
import hashlib
import quopri


def b64_lines(data, width=76):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + width] for i in range(0, len(s), width))


def qp(text, charset="utf-8"):
    data = text.replace("\r\n", "\n").encode(charset)
    out = quopri.encodestring(data, quotetabs=False).decode("ascii")
    return out


def crlf_text(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def word(text, charset, enc="B", max_len=75):
    """RFC 2047 encoded words (folded with CRLF SP), split on character boundaries."""
    words = []
    cur = ""
    prefix = f"=?{charset}?{enc}?"
    for ch in text:
        trial = cur + ch
        if enc == "B":
            n = len(prefix) + len(base64.b64encode(trial.encode(charset))) + 2
        else:
            n = len(prefix) + len(q_encode(trial, charset)) + 2
        if n > max_len and cur:
            words.append(cur)
            cur = ch
        else:
            cur = trial
    if cur:
        words.append(cur)
    if enc == "B":
        enc_words = [prefix + base64.b64encode(w.encode(charset)).decode() + "?=" for w in words]
    else:
        enc_words = [prefix + q_encode(w, charset) + "?=" for w in words]
    return "\n\t".join(enc_words)


def q_encode(text, charset):
    out = []
    for b in text.encode(charset):
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isalnum() and b < 128:
            out.append(c)
        elif c in "!*+-/" and b < 128:
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "".join(out)


def is_ascii(s):
    try:
        s.encode("ascii")
        return True
    except UnicodeEncodeError:
        return False


def hexid(seed, n):
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def hexid_upper(seed, n):
    return hexid(seed, n).upper()


def b64id(seed, n):
    raw = hashlib.sha256(seed.encode()).digest() + hashlib.sha256((seed + "x").encode()).digest()
    return base64.b64encode(raw).decode()[:n]
