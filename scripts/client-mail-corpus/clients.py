"""One renderer per mail client: the header order, Message-ID, X-Mailer and MIME
structure that client writes. Each returns the message as bytes (CRLF)."""
import html as htmlmod

from mime import b64_lines, qp, word, is_ascii, hexid, hexid_upper, b64id

MX_IPS = {
    "northwind.example": "203.0.113.25", "mingyuan-data.example": "192.0.2.44",
    "eastgate-sec.example": "198.51.100.61", "contoso-mfg.example": "203.0.113.80",
    "yunfan-tech.example": "43.129.5.17", "xinghe-soft.example": "43.129.8.102",
    "fabrikam.example": "198.51.100.14", "163.com": "220.197.31.5", "qq.com": "162.62.57.64",
    "gmail.com": "209.85.218.44", "huaxin-ht.example": "198.51.100.201",
}


def top(m):
    dom = m["from"].split("@")[1]
    if m.get("internal"):
        # A message inside the sender's organisation: no vendor MX trace.
        return [f"Received: from EXCH01.corp.{dom} (10.1.2.11) by EXCH02.corp.{dom}\n (10.1.2.12) with Microsoft SMTP Server id 15.2.1544.4; {m['date']}"]
    auth = (f"Authentication-Results: mx.vendor.example; dkim=pass header.d={dom} header.s=s1; "
            f"dmarc=pass header.from={dom}")
    rid = hexid_upper(m["file"] + "rid", 11)
    ip = MX_IPS[dom]
    host = {"163.com": "m16.mail.163.com", "qq.com": "out162-62-57-64.mail.qq.com",
            "gmail.com": "mail-ej1-f44.google.com"}.get(dom, "mail." + dom)
    recv = (f"Received: from {host} ({host} [{ip}])\n"
            f"\tby mx.vendor.example (Postfix) with ESMTPS id {rid}\n"
            f"\tfor <license@vendor.example>; {m['date']}")
    return [auth, recv]


def hdr_name(name, charset):
    if is_ascii(name):
        return f'"{name}"' if any(c in name for c in ",.") else name
    return word(name, charset)


def subject_hdr(subj, charset):
    if is_ascii(subj):
        # Long subjects are folded (RFC 5322 2.2.3) at the last space before column 78.
        out, line = [], "Subject: " + subj
        while len(line) > 78 and " " in line[10:78]:
            cut = line.rfind(" ", 10, 78)
            out.append(line[:cut])
            line = line[cut:]
        out.append(line)
        return "\n".join(out)[len("Subject: "):]
    return word(subj, charset)


def esc(s):
    return htmlmod.escape(s, quote=False)


def finish(lines, body_parts):
    """Header lines (may contain \n for folding) + body (str or bytes), all CRLF."""
    head = "\n".join(lines).replace("\n", "\r\n").encode("ascii") + b"\r\n\r\n"
    out = b""
    for p in body_parts:
        if isinstance(p, str):
            p = p.encode("ascii")
        out += p
    out = out.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return head + out


def part(ctype, cte, payload_text):
    return f"Content-Type: {ctype}\nContent-Transfer-Encoding: {cte}\n\n{payload_text}\n"


def encode_body(text, charset, cte):
    if cte == "base64":
        return b64_lines(text.replace("\r\n", "\n").replace("\n", "\r\n").encode(charset))
    if cte == "quoted-printable":
        return qp(text, charset)
    raise ValueError(cte)


# --------------------------------------------------------------------------- Outlook


def outlook(m):
    """Microsoft Outlook 16.0 (desktop): multipart/alternative, MsoNormal HTML, Thread-Index."""
    zh = m["lang"] == "zh"
    cs = "gb2312" if zh else "us-ascii"
    if zh:
        try:
            (m["text"] + m["html"] + m["subject"]).encode("gb2312")
        except UnicodeEncodeError:
            cs = "gbk"
    elif not is_ascii(m["text"] + m["html"]):
        cs = "utf-8"
    seed = m["file"]
    b = f"----=_NextPart_000_{hexid_upper(seed, 4)}_01DB{hexid_upper(seed + 'b', 4)}.{hexid_upper(seed + 'c', 8)}"
    mid = f"<000001db{hexid(seed + 'm1', 4)}${hexid(seed + 'm2', 8)}${hexid(seed + 'm3', 8)}$@{m['from'].split('@')[1]}>"
    lines = top(m)
    lines.append(f"From: {hdr_name(m['name'], cs)} <{m['from']}>")
    lines.append("To: <license@vendor.example>")
    if m.get("cc"):
        lines.append(f"Cc: {m['cc']}")
    if m.get("reply_to_mid"):
        lines.append(f"References: <{m['reply_to_mid']}>")
        lines.append(f"In-Reply-To: <{m['reply_to_mid']}>")
    lines.append(f"Subject: {subject_hdr(m['subject'], cs)}")
    lines.append(f"Date: {m['date']}")
    lines.append(f"Message-ID: {mid}")
    lines.append("MIME-Version: 1.0")
    lines.append(f'Content-Type: multipart/alternative;\n\tboundary="{b}"')
    lines.append("X-Mailer: Microsoft Outlook 16.0")
    lines.append(f"Thread-Index: {b64id(seed + 'ti', 30)}" + ("" if not m.get("reply_to_mid") else b64id(seed + "ti2", 8)))
    lines.append("Content-Language: " + ("zh-cn" if zh else "en-us"))
    cte = "base64" if zh else ("quoted-printable" if not is_ascii(m["text"]) or any(len(l) > 76 for l in m["text"].split("\n")) else "7bit")
    text_payload = encode_body(m["text"], cs, cte) if cte != "7bit" else m["text"]
    font = "等线" if zh else "Calibri"
    html_doc = (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" '
        'xmlns="http://www.w3.org/TR/REC-html40">'
        f'<head><meta http-equiv=Content-Type content="text/html; charset={cs}">'
        '<meta name=Generator content="Microsoft Word 15 (filtered medium)">'
        '<style><!--\n/* Font Definitions */\n@font-face\n\t{font-family:"Cambria Math";\n\tpanose-1:2 4 5 3 5 4 6 3 2 4;}\n'
        f'@font-face\n\t{{font-family:{"等线" if zh else "Calibri"};}}\n'
        '/* Style Definitions */\np.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{margin:0cm;\n\tfont-size:11.0pt;\n'
        f'\tfont-family:"{font}",sans-serif;}}\nspan.EmailStyle17\n\t{{mso-style-type:personal-compose;}}\n'
        '.MsoChpDefault\n\t{mso-style-type:export-only;}\n@page WordSection1\n\t{size:612.0pt 792.0pt;\n'
        '\tmargin:72.0pt 72.0pt 72.0pt 72.0pt;}\ndiv.WordSection1\n\t{page:WordSection1;}\n--></style>'
        '<!--[if gte mso 9]><xml>\n<o:shapedefaults v:ext="edit" spidmax="1026" />\n</xml><![endif]-->'
        f'</head><body lang={"ZH-CN" if zh else "EN-US"} link="#0563C1" vlink="#954F72" '
        'style=\'word-wrap:break-word;text-justify-trim:punctuation\'><div class=WordSection1>'
        + m["html"] + "</div></body></html>"
    )
    html_payload = encode_body(html_doc, cs, "base64" if zh else "quoted-printable")
    alt = [f"--{b}\n",
            part(f'text/plain;\n\tcharset="{cs}"', cte, text_payload),
            f"\n--{b}\n",
            part(f'text/html;\n\tcharset="{cs}"', "base64" if zh else "quoted-printable", html_payload),
            f"\n--{b}--\n"]
    if not m.get("attach_message"):
        return finish(lines, ["This is a multi-part message in MIME format.\n\n"] + alt)
    # Forward as attachment: multipart/mixed around the new text and the message/rfc822 part.
    mixed = b.replace("NextPart_000", "NextPart_001")
    i = next(k for k, l in enumerate(lines) if l.startswith("Content-Type: multipart/alternative"))
    lines[i] = f'Content-Type: multipart/mixed;\n\tboundary="{mixed}"'
    inner, fname = m["attach_message"]
    body = ["This is a multi-part message in MIME format.\n\n", f"--{mixed}\n",
            f'Content-Type: multipart/alternative;\n\tboundary="{b}"\n\n\n'] + alt + [
            f"\n--{mixed}\n",
            f'Content-Type: message/rfc822\nContent-Disposition: attachment;\n\tfilename="{fname}"\n\n',
            inner, f"\n--{mixed}--\n"]
    return finish(lines, body)


def mso_p(s, zh=False):
    """One Outlook paragraph."""
    if s == "":
        return "<p class=MsoNormal><o:p>&nbsp;</o:p></p>\n"
    span = '<span lang=EN-US>' if zh and is_ascii(s) else ""
    end = "</span>" if span else ""
    return f"<p class=MsoNormal>{span}{esc(s)}{end}<o:p></o:p></p>\n"


def mso_table(rows):
    out = ("<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0 "
           "style='border-collapse:collapse;border:none'>\n")
    for a, b in rows:
        out += ("<tr><td width=200 valign=top style='width:150.0pt;border:solid windowtext 1.0pt;padding:0cm 5.4pt 0cm 5.4pt'>"
                f"<p class=MsoNormal><b>{esc(a)}<o:p></o:p></b></p></td>"
                "<td width=353 valign=top style='width:264.8pt;border:solid windowtext 1.0pt;border-left:none;padding:0cm 5.4pt 0cm 5.4pt'>"
                f"<p class=MsoNormal>{esc(b)}<o:p></o:p></p></td></tr>\n")
    return out + "</table>\n"


# --------------------------------------------------------------------------- Foxmail / WeCom


def foxmail(m, wecom=False):
    """Foxmail 7.2 (or WeCom mail, built on it): GB2312/UTF-8, text base64, HTML QP/base64."""
    zh = m["lang"] == "zh"
    cs = m.get("charset") or ("utf-8" if wecom else ("GB2312" if zh else "us-ascii"))
    if cs == "GB2312":
        try:
            (m["text"] + m["html"] + m["subject"] + m["name"]).encode("gb2312")
        except UnicodeEncodeError:
            cs = "GBK"
    if cs == "us-ascii" and not is_ascii(m["text"] + m["html"] + m["name"]):
        cs = "GB2312"
    seed = m["file"]
    b = f"----=_001_NextPart{hexid(seed, 12).translate(str.maketrans('abcdef', '123456'))}_=----"
    stamp = m["stamp"]  # yyyymmddhhmmss
    mid = f"<{stamp}{hexid(seed + 'id', 7).translate(str.maketrans('abcdef', '456789'))}@{m['from'].split('@')[1]}>"
    lines = top(m)
    if wecom:
        lines.append(f"X-QQ-mid: bizesmtp{hexid(seed + 'q', 2)}t{stamp[2:]}t{hexid(seed + 'q3', 8)}")
        lines.append("X-QQ-Originating-IP: " + b64id(seed + "ip", 40) + "=")
        lines.append("X-QQ-SSF: 00400000000000F0")
        lines.append("X-QQ-GoodBg: 2")
    lines.append(f"Date: {m['date']}")
    lines.append(f"From: {hdr_name(m['name'], cs)} <{m['from']}>")
    lines.append(f"To: license <license@vendor.example>")
    if m.get("reply_to_mid"):
        lines.append(f"References: <{m['reply_to_mid']}>")
    lines.append(f"Subject: {subject_hdr(m['subject'], cs)}")
    lines.append("X-Priority: 3")
    lines.append(f"X-GUID: {hexid_upper(seed + 'g1', 8)}-{hexid_upper(seed + 'g2', 4)}-{hexid_upper(seed + 'g3', 4)}-"
                 f"{hexid_upper(seed + 'g4', 4)}-{hexid_upper(seed + 'g5', 12)}")
    lines.append("X-Has-Attach: no")
    lines.append("X-Mailer: " + ("WXWork 4.1.22.6019[cn]" if wecom else "Foxmail 7.2.25.228[cn]"))
    lines.append("Mime-Version: 1.0")
    lines.append(f"Message-ID: {mid}")
    if m.get("html_only"):
        lines.append(f'Content-Type: text/html;\n\tcharset="{cs}"')
        lines.append("Content-Transfer-Encoding: base64")
        return finish(lines, [encode_body(fox_html(m, cs), cs, "base64") + "\n"])
    lines.append(f'Content-Type: multipart/alternative;\n\tboundary="{b}"')
    text = m["text"]
    body = ["This is a multi-part message in MIME format.\n\n", f"--{b}\n",
            part(f'text/plain;\n\tcharset="{cs}"', "base64", encode_body(text, cs, "base64")),
            f"\n--{b}\n",
            part(f'text/html;\n\tcharset="{cs}"', "quoted-printable", encode_body(fox_html(m, cs), cs, "quoted-printable")),
            f"\n--{b}--\n\n"]
    return finish(lines, body)


def fox_html(m, cs):
    return (f'<html><head><meta http-equiv="content-type" content="text/html; charset={cs}">'
            "<style>body { line-height: 1.5; }blockquote { margin-top: 0px; margin-bottom: 0px; margin-left: 0.5em; }"
            "p { margin-top: 0px; margin-bottom: 0px; }body { font-size: 14px; font-family: "
            + ("'Microsoft YaHei UI'" if m["lang"] == "zh" else "'Microsoft YaHei UI'") +
            "; color: rgb(0, 0, 0); line-height: 1.5; }</style></head><body>\n"
            + m["html"] + "</body></html>")


def fox_div(s):
    if s == "":
        return "<div><br></div>\n"
    return f"<div><span>{esc(s)}</span></div>\n"


def fox_sig(addr_or_name_lines):
    inner = "".join(f"<div>{esc(x)}</div>" for x in addr_or_name_lines)
    return ('<div><br></div><hr style="width: 210px; height: 1px;" color="#b5c4df" size="1" align="left">\n'
            '<div><span><div style="MARGIN: 10px; FONT-FAMILY: verdana; FONT-SIZE: 10pt">'
            f'{inner}</div></span></div>\n')


# --------------------------------------------------------------------------- QQ Mail


def qqmail(m):
    """QQ Mail web: GB18030, text and HTML both base64, X-QQ-* fields, tencent_ Message-ID."""
    cs = "gb18030"
    seed = m["file"]
    b = f"----=_NextPart_{hexid_upper(seed, 8)}_{hexid_upper(seed + '1', 8)}_{hexid_upper(seed + '2', 8)}"
    lines = top(m)
    lines.append(f"X-QQ-FEAT: {b64id(seed + 'feat', 60)}")
    lines.append("X-QQ-SSF: 00000000000000F000000000000000Z")
    lines.append(f"X-QQ-XMAILINFO: {b64id(seed + 'xm', 72)}\n\t {b64id(seed + 'xm2', 60)}")
    lines.append(f"X-QQ-mid: xmsezb{hexid(seed + 'mid', 2)}-{hexid(seed + 'mid2', 1)}t{m['stamp'][2:]}t{hexid(seed + 'q', 6)}")
    lines.append(f"X-QQ-XMRINFO: {b64id(seed + 'xr', 40)}=")
    lines.append(f'From: "{word(m["name"], cs)}" <{m["from"]}>' if not is_ascii(m["name"]) else f'From: "{m["name"]}" <{m["from"]}>')
    lines.append('To: "license" <license@vendor.example>')
    lines.append(f"Subject: {subject_hdr(m['subject'], cs)}")
    lines.append("Mime-Version: 1.0")
    lines.append(f'Content-Type: multipart/alternative;\n\tboundary="{b}"')
    lines.append("Content-Transfer-Encoding: 8Bit")
    lines.append(f"Date: {m['date']}")
    lines.append("X-Priority: 3")
    lines.append(f"Message-ID: <tencent_{hexid_upper(seed + 'tid', 36)}@qq.com>")
    if m.get("reply_to_mid"):
        lines.append(f"References: <{m['reply_to_mid']}>")
        lines.append(f"In-Reply-To: <{m['reply_to_mid']}>")
    lines.append("X-QQ-MIME: TCMime 1.0 by Tencent")
    lines.append("X-Mailer: QQMail 2.x")
    lines.append("X-QQ-Mailer: QQMail 2.x")
    html_doc = ('<meta http-equiv="Content-Type" content="text/html; charset=GB18030">'
                + m["html"])
    body = ["This is a multi-part message in MIME format.\n\n", f"--{b}\n",
            part(f'text/plain;\n\tcharset="{cs}"', "base64", encode_body(m["text"], cs, "base64")),
            f"\n--{b}\n",
            part(f'text/html;\n\tcharset="{cs}"', "base64", encode_body(html_doc, cs, "base64")),
            f"\n--{b}--\n\n"]
    return finish(lines, body)


def qq_div(s):
    if s == "":
        return "<div><br></div>"
    return f"<div>{esc(s)}</div>"


def qq_sig(lines_):
    inner = "".join(f"<div>{esc(x)}</div>" for x in lines_)
    return ('<div><br></div><div><sign signid="0"><div style="color:#909090;font-family:Arial Narrow;font-size:12px">'
            '------------------</div>' + inner + "</sign></div><div>&nbsp;</div>")


# --------------------------------------------------------------------------- NetEase 163


def netease(m):
    """NetEase 163 webmail (Coremail): GBK, text and HTML base64, Coremail Message-ID."""
    cs = "GBK"
    seed = m["file"]
    ms = m["epoch_ms"]
    b = f"----=_Part_{int(hexid(seed, 6), 16) % 900000 + 100000}_{int(hexid(seed + 'p', 8), 16) % 900000000 + 100000000}.{ms}"
    lines = top(m)
    lines.append(f"Date: {m['date']} (CST)")
    lines.append(f"From: {hdr_name(m['name'], cs)} <{m['from']}>")
    lines.append("To: license@vendor.example")
    if m.get("reply_to_mid"):
        lines.append(f"In-Reply-To: <{m['reply_to_mid']}>")
    lines.append(f"Subject: {subject_hdr(m['subject'], cs)}")
    lines.append("X-Priority: 3")
    lines.append("X-Mailer: Coremail Webmail Server Version XT5.0.14 build 20240801(9da12a7b)\n"
                 " Copyright (c) 2002-2026 www.mailtech.cn 163com")
    lines.append(f"X-NTES-SC: AL_Qu2{b64id(seed + 'sc', 60)}")
    lines.append(f'Content-Type: multipart/alternative; \n\tboundary="{b}"')
    lines.append("MIME-Version: 1.0")
    lines.append(f"Message-ID: <{hexid(seed + 'a', 8)}.{hexid(seed + 'b', 4)}.{hexid(seed + 'c', 11)}.Coremail.{m['from']}>")
    lines.append("X-Coremail-Locale: zh_CN")
    lines.append(f"X-CM-TRANSID:_____{b64id(seed + 'tr', 30)}--.{b64id(seed + 'tr2', 4)}")
    lines.append(f"X-Originating-IP: [{m.get('ip', '113.108.77.51')}]")
    lines.append(f"X-CM-SenderInfo: {b64id(seed + 'si', 24)}")
    html_doc = ('<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">'
                + m["html"] + '</div><br><br><span title="neteasefooter"><p>&nbsp;</p></span>')
    body = [f"--{b}\n",
            part(f"text/plain; charset={cs}", "base64", encode_body(m["text"], cs, "base64")),
            f"--{b}\n",
            part(f"text/html; charset={cs}", "base64", encode_body(html_doc, cs, "base64")),
            f"--{b}--\n"]
    return finish(lines, body)


def ne_p(s):
    if s == "":
        return "<div><br></div>"
    return f"<div>{esc(s)}</div>"


# --------------------------------------------------------------------------- Gmail


def gmail(m):
    """Gmail web: UTF-8, QP (or base64 for mostly Chinese text), <div dir="ltr">, *bold* in the text."""
    seed = m["file"]
    b = f"000000000000{hexid(seed, 16)}"
    dom = m["from"].split("@")[1]
    lines = top(m)
    lines.append(f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n        d={dom}; s={'20230601' if dom == 'gmail.com' else 'google'}; t={m['epoch_ms'] // 1000}; x={m['epoch_ms'] // 1000 + 604800}; darn=vendor.example;\n"
                 f"        h=to:subject:message-id:date:from:mime-version:from:to:cc:subject\n         :date:message-id:reply-to;\n"
                 f"        bh={b64id(seed + 'bh', 43)}=;\n        b={b64id(seed + 'sig', 70)}\n         {b64id(seed + 'sig2', 70)}==")
    lines.append(f"X-Gm-Message-State: AOJu0Y{b64id(seed + 'gm', 60)}")
    lines.append(f"X-Google-Smtp-Source: AGHT+I{b64id(seed + 'gs', 60)}")
    lines.append(f"X-Received: by 2002:a17:906:{hexid(seed + 'xr', 4)}:b0:a9a:{hexid(seed + 'xr2', 4)}:{hexid(seed + 'xr3', 4)} with SMTP id\n"
                 f" {hexid(seed + 'xr4', 12)}-{hexid(seed + 'xr5', 10)}.{int(hexid(seed, 2), 16)}.{m['epoch_ms'] // 1000};\n        {m['date']}")
    lines.append("MIME-Version: 1.0")
    if m.get("reply_to_mid"):
        lines.append(f"References: <{m['reply_to_mid']}>")
        lines.append(f"In-Reply-To: <{m['reply_to_mid']}>")
    lines.append(f"From: {hdr_name(m['name'], 'UTF-8')} <{m['from']}>")
    lines.append(f"Date: {m['date']}")
    lines.append(f"Message-ID: <CA{b64id(seed + 'mid', 50).replace('/', '_')}@mail.gmail.com>")
    lines.append(f"Subject: {subject_hdr(m['subject'], 'UTF-8')}")
    lines.append("To: license@vendor.example")
    lines.append(f'Content-Type: multipart/alternative; boundary="{b}"')
    zh = m["lang"] == "zh"
    cte = "base64" if zh else "quoted-printable"
    html_doc = '<div dir="ltr">' + m["html"] + "</div>\n"
    body = [f"--{b}\n",
            part('text/plain; charset="UTF-8"', cte, encode_body(m["text"], "utf-8", cte)),
            f"\n--{b}\n",
            part('text/html; charset="UTF-8"', cte, encode_body(html_doc, "utf-8", cte)),
            f"\n--{b}--\n"]
    return finish(lines, body)


# --------------------------------------------------------------------------- Thunderbird


def flow(text, width=72):
    """RFC 3676 format=flowed: long lines broken at spaces with a trailing space (soft break),
    lines starting with a space, '>' (unquoted) or 'From ' space-stuffed."""
    out = []
    for line in text.split("\n"):
        quote = ""
        while line.startswith(">"):
            quote += ">"
            line = line[1:]
        if quote and line.startswith(" "):
            line = line[1:]
            qprefix = quote + " "
        else:
            qprefix = quote
        if line == "-- ":
            out.append(qprefix + line)
            continue
        line = line.rstrip(" ")
        pieces = []
        while len(qprefix) + len(line) > width and " " in line[: width - len(qprefix)]:
            cut = line.rfind(" ", 0, width - len(qprefix))
            pieces.append(line[: cut + 1])
            line = line[cut + 1:]
        pieces.append(line)
        for p in pieces:
            if not quote and (p.startswith(" ") or p.startswith("From ") or p.startswith(">")):
                p = " " + p
            out.append(qprefix + p)
    return "\n".join(out)


def thunderbird(m):
    """Thunderbird 128: text/plain format=flowed (plain-text compose) or multipart/alternative
    with a format=flowed text part; UUID Message-ID; User-Agent."""
    seed = m["file"]
    dom = m["from"].split("@")[1]
    h = hexid(seed, 32)
    mid = f"<{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}@{dom}>"
    lines = top(m)
    lines.append(f"Message-ID: {mid}")
    lines.append(f"Date: {m['date']}")
    lines.append("MIME-Version: 1.0")
    lines.append("User-Agent: Mozilla Thunderbird")
    if m.get("reply_to_mid"):
        lines.append(f"References: <{m['reply_to_mid']}>")
        lines.append(f"In-Reply-To: <{m['reply_to_mid']}>")
    lines.append("Content-Language: " + ("zh-CN" if m["lang"] == "zh" else "en-US"))
    lines.append("To: license@vendor.example")
    lines.append(f"From: {hdr_name(m['name'], 'UTF-8')} <{m['from']}>")
    if m.get("org"):
        lines.append(f"Organization: {m['org'] if is_ascii(m['org']) else word(m['org'], 'UTF-8')}")
    lines.append(f"Subject: {subject_hdr(m['subject'], 'UTF-8')}")
    text = flow(m["text"])
    cte = "7bit" if is_ascii(text) else "8bit"
    if not m.get("html"):
        lines.append("Content-Type: text/plain; charset=UTF-8; format=flowed")
        lines.append(f"Content-Transfer-Encoding: {cte}")
        return finish(lines, [text.encode("utf-8") + b"\n"])
    b = f"------------{b64id(seed + 'b', 24).replace('+', '0').replace('/', '1')}"
    lines.append(f'Content-Type: multipart/alternative;\n boundary="{b}"')
    html_doc = ("<!DOCTYPE html>\n<html>\n  <head>\n\n    <meta http-equiv=\"content-type\" content=\"text/html; charset=UTF-8\">\n"
                "  </head>\n  <body>\n" + m["html"] + "  </body>\n</html>\n")
    body = ["This is a multi-part message in MIME format.\n", f"--{b}\n".encode(),
            f"Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: {cte}\n\n".encode(),
            text.encode("utf-8") + b"\n\n",
            f"--{b}\nContent-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: {cte}\n\n".encode(),
            html_doc.encode("utf-8") + b"\n",
            f"--{b}--\n".encode()]
    return finish(lines, body)


# --------------------------------------------------------------------------- iPhone Mail


def iphone(m):
    """iOS Mail: Apple-Mail boundary, Mime-Version: 1.0 (1.0), UUID Message-Id, QP text."""
    seed = m["file"]
    dom = m["from"].split("@")[1]
    h = hexid_upper(seed, 32)
    uuid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    lines = top(m)
    if m.get("html"):
        b = f"Apple-Mail-{hexid_upper(seed + 'b', 8)}-{hexid_upper(seed + 'b2', 4)}-{hexid_upper(seed + 'b3', 4)}-{hexid_upper(seed + 'b4', 4)}-{hexid_upper(seed + 'b5', 12)}"
        lines.append(f"Content-Type: multipart/alternative; boundary={b}")
    else:
        lines.append("Content-Type: text/plain;\n\tcharset=utf-8")
    lines.append("Content-Transfer-Encoding: " + ("7bit" if m.get("html") else "quoted-printable"))
    lines.append(f"From: {hdr_name(m['name'], 'utf-8')} <{m['from']}>")
    lines.append("Mime-Version: 1.0 (1.0)")
    lines.append(f"Date: {m['date']}")
    lines.append(f"Subject: {subject_hdr(m['subject'], 'utf-8')}")
    lines.append(f"Message-Id: <{uuid}@{dom}>")
    if m.get("reply_to_mid"):
        lines.append(f"References: <{m['reply_to_mid']}>")
        lines.append(f"In-Reply-To: <{m['reply_to_mid']}>")
    lines.append("To: license@vendor.example")
    lines.append(f"X-Mailer: iPhone Mail ({m.get('build', '21E236')})")
    if not m.get("html"):
        return finish(lines, [qp(m["text"], "utf-8") + "\n"])
    html_doc = ('<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
                '<body dir="auto">' + m["html"] + "</body></html>")
    body = [f"\n--{b}\n",
            part("text/plain;\n\tcharset=utf-8", "quoted-printable", qp(m["text"], "utf-8")),
            f"--{b}\n",
            part("text/html;\n\tcharset=utf-8", "quoted-printable", qp(html_doc, "utf-8")),
            f"--{b}--\n"]
    return finish(lines, body)
