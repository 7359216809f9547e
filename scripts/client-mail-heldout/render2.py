"""Blocks of a held-out mail body -> the text and HTML each client writes, reusing the
client renderers (headers, MIME structure) of ../client-mail-corpus/clients.py.

Blocks:
  "a line"                         a paragraph line ("" = blank)
  ("b", label, value[, colour])    a bold (and coloured) label and its value
  ("grid", header, [rows])         a table pasted from Excel: a header row and value rows
  ("kv", [(label, value)])         a two-column table (label cell, value cell)
  ("sig", [lines])                 the signature, as the client separates it
  ("quote", [header lines], [blocks])   an earlier message quoted in a reply
"""
import os
import sys
from datetime import datetime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../client-mail-corpus"))
import clients  # noqa: E402
from clients import esc, mso_p, mso_table, fox_div, fox_sig, qq_div, qq_sig, ne_p  # noqa: E402
from mime import b64_lines, hexid_upper  # noqa: E402

PREFIX_QUOTES = ("gmail", "iphone", "thunderbird", "163")


def when(s):
    d = datetime.strptime(s, "%Y-%m-%d %H:%M:%S %z")
    return d.strftime("%a, %d %b %Y %H:%M:%S %z"), d.strftime("%Y%m%d%H%M%S"), int(d.timestamp() * 1000)


def text_of(blocks, client):
    out = []
    for b in blocks:
        if isinstance(b, str):
            out.append(b)
        elif b[0] == "b":
            out.append(f"*{b[1]}* {b[2]}" if client == "gmail" else (b[1] + ("" if b[1].endswith("：") else " ") + b[2]).rstrip())
        elif b[0] == "grid":
            out.append("\t".join(b[1]))
            out.extend("\t".join(r) for r in b[2])
        elif b[0] == "kv":
            for k, v in b[1]:
                out.extend([k, v] if client == "gmail" else [f"{k}\t{v}"])
        elif b[0] == "sig":
            sep = {"gmail": ["", "--"], "thunderbird": ["", "-- "], "qq": ["", "------------------"],
                   "foxmail": ["", ""], "wecom": ["", ""], "163": [""], "outlook": [""], "iphone": [""]}[client]
            out.extend(sep)
            out.extend(b[1])
        elif b[0] == "quote":
            hdr, inner = b[1], b[2]
            inner_text = text_of(inner, "plain-" + client)
            out.append("")
            if client == "iphone":
                out.extend("> " + h for h in hdr)
                out.append(">")
            else:
                out.extend(hdr)
                if client != "163":
                    out.append("")
            if client in PREFIX_QUOTES:
                out.extend(("> " + l) if l else ">" for l in inner_text.split("\n"))
            else:
                out.extend(inner_text.split("\n"))
    return "\n".join(out)


def para(client, s, zh):
    if client == "outlook":
        return mso_p(s, zh)
    if client in ("foxmail", "wecom"):
        return fox_div(s)
    if client == "qq":
        return qq_div(s)
    if client == "163":
        return ne_p(s)
    if client == "gmail":
        return "<div><br></div>" if s == "" else f"<div>{esc(s)}</div>"
    if client == "thunderbird":
        return "    <p><br>\n    </p>\n" if s == "" else f"    {esc(s)}<br>\n"
    return '<div dir="ltr"><br></div>' if s == "" else f'<div dir="ltr">{esc(s)}</div>'


def html_of(blocks, client, zh):
    out = []
    for b in blocks:
        if isinstance(b, str):
            out.append(para(client, b, zh))
        elif b[0] == "b":
            colour = b[3] if len(b) > 3 else None
            label = f"<b>{esc(b[1])}</b>"
            if colour:
                label = f'<span style="color:{colour};font-weight:bold">{esc(b[1])}</span>'
                if client == "outlook":
                    label = f"<b><span style='color:{colour}'>{esc(b[1])}</span></b>"
            tag = "p class=MsoNormal" if client == "outlook" else "div"
            end = "p" if client == "outlook" else "div"
            sep = "&nbsp;" if client in ("foxmail", "wecom", "qq") else " "
            if b[1].endswith("："):
                sep = ""
            out.append(f"<{tag}>{label}{sep}{esc(b[2])}</{end}>\n")
        elif b[0] == "grid":
            if client == "outlook":
                cell = "<td nowrap valign=bottom style='border:solid windowtext 1.0pt;padding:0cm 5.4pt 0cm 5.4pt'><p class=MsoNormal>{}<o:p></o:p></p></td>"
                rows = "".join("<tr style='height:14.25pt'>" + "".join(cell.format(esc(c)) for c in r) + "</tr>\n"
                               for r in [b[1]] + b[2])
                out.append("<table class=MsoNormalTable border=0 cellspacing=0 cellpadding=0 width=900 "
                           "style='width:675.0pt;border-collapse:collapse'>\n" + rows + "</table>\n")
            else:
                th = "".join(f'<td style="border:1px solid #000;background:#d9e1f2;font-weight:bold">{esc(c)}</td>' for c in b[1])
                trs = "".join("<tr>" + "".join(f'<td style="border:1px solid #000">{esc(c)}</td>' for c in r) + "</tr>" for r in b[2])
                out.append('<table border="0" cellpadding="0" cellspacing="0" style="border-collapse:collapse;width:900px">'
                           f"<colgroup></colgroup><tbody><tr>{th}</tr>{trs}</tbody></table>")
        elif b[0] == "kv":
            if client == "outlook":
                out.append(mso_table(b[1]))
            else:
                rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in b[1])
                out.append(f'<table border="1" cellpadding="4" cellspacing="0" style="border-collapse:collapse"><tbody>{rows}</tbody></table>')
        elif b[0] == "sig":
            lines = b[1]
            if client == "outlook":
                out.append(mso_p("", zh))
                out.extend(mso_p(x, zh) for x in lines)
            elif client in ("foxmail", "wecom"):
                out.append(fox_sig(lines))
            elif client == "qq":
                out.append(qq_sig(lines))
            elif client == "gmail":
                out.append('<div><br></div><span class="gmail_signature_prefix">-- </span><br>'
                           '<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature"><div dir="ltr">'
                           + "<br>".join(esc(x) for x in lines) + "</div></div>")
            elif client == "thunderbird":
                out.append('    <div class="moz-signature">-- <br>\n      ' + "<br>\n      ".join(esc(x) for x in lines) + "<br>\n    </div>\n")
            elif client == "163":
                out.append("<div><br></div>" + "".join(ne_p(x) for x in lines))
            else:
                out.append("".join(f'<div dir="ltr">{esc(x)}</div>' for x in lines))
        elif b[0] == "quote":
            hdr, inner = b[1], b[2]
            ih = html_of(inner, client, zh)
            if client == "gmail":
                out.append('<br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">'
                           + esc(hdr[0]) + '<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
                           'border-left:1px solid rgb(204,204,204);padding-left:1ex"><div dir="ltr">' + ih
                           + "</div></blockquote></div>")
            elif client == "outlook":
                out.append("<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
                           + "".join(f"<p class=MsoNormal>{esc(x)}</p>" for x in hdr if x) + "</div></div>" + mso_p("", zh) + ih)
            elif client in ("foxmail", "wecom"):
                out.append('<div><br></div><div style="border:none;border-top:solid #B5C4DF 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
                           '<div style="PADDING-RIGHT: 8px; PADDING-LEFT: 8px; FONT-SIZE: 12px;FONT-FAMILY:tahoma;COLOR:#000000; BACKGROUND: #efefef; PADDING-BOTTOM: 8px; PADDING-TOP: 8px">'
                           + "".join(f"<div>{esc(x)}</div>" for x in hdr if x) + "</div></div><blockquote style=\"margin-Top: 0px; margin-Bottom: 0px; margin-Left: 0.5em; margin-Right: inherit\">" + ih + "</blockquote>")
            elif client == "qq":
                out.append('<div><br></div><div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">'
                           + esc(hdr[0]) + '</div><div style="font-size: 12px;background:#efefef;padding:8px;">'
                           + "".join(f"<div>{esc(x)}</div>" for x in hdr[1:] if x) + "</div><div><br></div>" + ih)
            elif client == "163":
                out.append('<br><div style="position:relative;zoom:1"></div><div id="divNeteaseMailCard"></div><br>'
                           f'<pre><br>{esc(hdr[0])}<br></pre><blockquote id="isReplyContent" style="PADDING-LEFT: 1ex; MARGIN: 0px 0px 0px 0.8ex; BORDER-LEFT: #ccc 1px solid">'
                           + ih + "</blockquote>")
            else:
                out.append('<div dir="ltr"><br><blockquote type="cite">' + "<br>".join(esc(x) for x in hdr)
                           + "<br><br>" + ih + "</blockquote></div>")
    return "".join(out)


RENDER = {
    "outlook": clients.outlook,
    "foxmail": clients.foxmail,
    "wecom": lambda m: clients.foxmail(m, wecom=True),
    "qq": clients.qqmail,
    "163": clients.netease,
    "gmail": clients.gmail,
    "thunderbird": clients.thunderbird,
    "iphone": clients.iphone,
}


def wrap_mixed(raw, attachments, seed):
    """The message with its body moved into the first part of a multipart/mixed and the
    attachments after it (what each client does when a file is attached)."""
    head, body = raw.split(b"\r\n\r\n", 1)
    fields, cur = [], None
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    keep, moved = [], []
    for f in fields:
        name = f.split(b":", 1)[0].lower()
        if name in (b"content-type", b"content-transfer-encoding"):
            moved.append(f)
        elif name == b"x-has-attach":
            keep.append(b"X-Has-Attach: yes")
        else:
            keep.append(f)
    bnd = f"----=_Part_Mixed_{hexid_upper(seed + 'mixed', 16)}"
    keep.append(f'Content-Type: multipart/mixed;\r\n\tboundary="{bnd}"'.encode())
    out = b"\r\n".join(keep) + b"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n"
    out += f"--{bnd}\r\n".encode() + b"\r\n".join(moved) + b"\r\n\r\n" + body.rstrip(b"\r\n") + b"\r\n"
    for a in attachments:
        out += f"\r\n--{bnd}\r\n".encode()
        if a["type"] == "message/rfc822":
            out += (f'Content-Type: message/rfc822;\r\n\tname="{a["name"]}"\r\n'
                    f'Content-Disposition: attachment;\r\n\tfilename="{a["name"]}"\r\n\r\n').encode()
            out += a["data"].rstrip(b"\r\n") + b"\r\n"
        else:
            out += (f'Content-Type: {a["type"]};\r\n\tname="{a["name"]}"\r\nContent-Transfer-Encoding: base64\r\n'
                    f'Content-Disposition: attachment;\r\n\tfilename="{a["name"]}"\r\n\r\n').encode()
            out += b64_lines(a["data"]).replace("\n", "\r\n").encode() + b"\r\n"
    out += f"\r\n--{bnd}--\r\n".encode()
    return out


def build(spec):
    m = dict(spec)
    m["date"], m["stamp"], m["epoch_ms"] = when(spec["when"])
    client = spec["client"]
    zh = spec["lang"] == "zh"
    if spec.get("attach_inner") and client == "outlook":
        inner = build(spec["attach_inner"])
        m["attach_message"] = (inner, spec["attach_inner"]["subject"].replace("'", "") + ".eml")
    m["text"] = text_of(spec["body"], client)
    if client in ("iphone", "thunderbird") and not spec.get("with_html"):
        m["html"] = ""
    else:
        m["html"] = html_of(spec["body"], client, zh)
    raw = RENDER[client](m)
    atts = list(spec.get("attachments", []))
    if spec.get("attach_inner") and client != "outlook":
        atts.insert(0, {"type": "message/rfc822", "name": spec.get("attach_name", "forwarded.eml"),
                        "data": build(spec["attach_inner"])})
    if atts:
        raw = wrap_mixed(raw, atts, spec["file"])
    return raw
