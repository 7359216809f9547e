"""Blocks of a mail body -> the text and HTML each client writes for them."""
from datetime import datetime

from clients import esc, mso_p, mso_table, fox_div, fox_sig, qq_div, qq_sig, ne_p, flow
import clients

# A body is a list of blocks:
#   "a line"                      a paragraph line ("" = blank line)
#   ("table", [(label, value)])   an HTML table (label cell, value cell)
#   ("bold", label, value)        a bold label followed by its value
#   ("sig", [lines])              the signature
#   ("quote", [header lines], [blocks])   a quoted earlier message (replies)


def when(s):
    """'2026-11-23 10:14:02 +0800' -> (RFC 5322 date, yyyymmddhhmmss, epoch ms)."""
    d = datetime.strptime(s, "%Y-%m-%d %H:%M:%S %z")
    return d.strftime("%a, %d %b %Y %H:%M:%S %z"), d.strftime("%Y%m%d%H%M%S"), int(d.timestamp() * 1000)


def text_of(blocks, client, lang):
    out = []
    for b in blocks:
        if isinstance(b, str):
            out.append(b)
        elif b[0] == "table":
            for k, v in b[1]:
                if client == "gmail":
                    out.append(f"{k}")
                    out.append(f"{v}")
                else:
                    out.append(f"{k}\t{v}")
        elif b[0] == "bold":
            if client == "gmail":
                out.append(f"*{b[1]}* {b[2]}")
            else:
                out.append(f"{b[1]} {b[2]}")
        elif b[0] == "sig":
            if client == "gmail":
                out.append("")
                out.append("--")
            elif client == "thunderbird":
                out.append("")
                out.append("-- ")
            elif client == "qq":
                out.append("")
                out.append("------------------")
            elif client in ("foxmail", "wecom"):
                out.append("")
                out.append("")
            out.extend(b[1])
        elif b[0] == "quote":
            hdr, inner = b[1], b[2]
            inner_text = text_of(inner, "plain", lang)
            if client in ("gmail", "iphone", "thunderbird"):
                out.append("")
                out.extend(hdr)
                out.append("")
                out.extend(("> " + l) if l else ">" for l in inner_text.split("\n"))
            else:
                out.append("")
                out.extend(hdr)
                out.append("")
                out.extend(inner_text.split("\n"))
    return "\n".join(out)


def html_of(blocks, client, lang):
    zh = lang == "zh"
    out = []
    for b in blocks:
        if isinstance(b, str):
            if client == "outlook":
                out.append(mso_p(b, zh))
            elif client in ("foxmail", "wecom"):
                out.append(fox_div(b))
            elif client == "qq":
                out.append(qq_div(b))
            elif client == "163":
                out.append(ne_p(b))
            elif client == "gmail":
                out.append("<div><br></div>" if b == "" else f"<div>{esc(b)}</div>")
            elif client == "thunderbird":
                out.append("    <p><br>\n    </p>\n" if b == "" else f"    {esc(b)}<br>\n")
            elif client == "iphone":
                out.append('<div dir="ltr"><br></div>' if b == "" else f'<div dir="ltr">{esc(b)}</div>')
        elif b[0] == "table":
            if client == "outlook":
                out.append(mso_table(b[1]))
            else:
                style = ' border="1" cellpadding="4" cellspacing="0" style="border-collapse:collapse"'
                rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in b[1])
                out.append(f"<table{style}><tbody>{rows}</tbody></table>")
        elif b[0] == "bold":
            if client == "outlook":
                out.append(f"<p class=MsoNormal><b>{esc(b[1])}</b> {esc(b[2])}<o:p></o:p></p>\n")
            elif client == "gmail":
                out.append(f"<div><b>{esc(b[1])}</b> {esc(b[2])}</div>")
            else:
                out.append(f"<div><b>{esc(b[1])}</b>&nbsp;{esc(b[2])}</div>")
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
            inner_html = html_of(inner, client, lang)
            if client == "gmail":
                out.append('<br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">'
                           + esc(hdr[0]) + '<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
                           'border-left:1px solid rgb(204,204,204);padding-left:1ex"><div dir="ltr">' + inner_html
                           + "</div></blockquote></div>")
            elif client == "outlook":
                out.append("<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
                           + "".join(f"<p class=MsoNormal>{esc(x)}</p>" for x in hdr) + "</div></div>" + mso_p("", zh)
                           + inner_html)
            else:
                out.append('<div dir="ltr"><br><blockquote type="cite">' + "<br>".join(esc(x) for x in hdr)
                           + "<br><br>" + inner_html + "</blockquote></div>")
    return "".join(out) if client != "thunderbird" else "".join(out)


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


def build(spec):
    m = dict(spec)
    if spec.get("attach_inner"):
        inner = build(spec["attach_inner"])
        m["attach_message"] = (inner, spec["attach_inner"]["subject"].replace("'", "") + ".eml")
    m["date"], m["stamp"], m["epoch_ms"] = when(spec["when"])
    client = spec["client"]
    blocks = spec["body"]
    m["text"] = text_of(blocks, client, spec["lang"])
    if client == "iphone":
        m["html"] = html_of(blocks, client, spec["lang"]) if spec.get("with_html") else ""
    elif client == "thunderbird":
        m["html"] = html_of(blocks, client, spec["lang"]) if spec.get("with_html") else ""
    else:
        m["html"] = html_of(blocks, client, spec["lang"])
    return RENDER[client](m)
