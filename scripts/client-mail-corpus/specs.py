# -*- coding: utf-8 -*-
"""The corpus: each mail as its client writes it, with the decision careful staff make."""

EN_SUBJ = "Official Authorization Document of {}'s Registration for {}"
ZH_SUBJ = "关于{}注册{}的正式授权文件"


def kv(rows, sep=": "):
    return [f"{k}{sep}{v}" for k, v in rows]


def numbered(rows, sep=": ", fmt="{n}. "):
    return [fmt.format(n=i + 1) + f"{k}{sep}{v}" for i, (k, v) in enumerate(rows)]


# Signatures and disclaimers -------------------------------------------------

NW_SIG = ["Alice Chen", "IT Operations | Northwind Trading Co., Ltd.", "T: +86 21 5555 0188 | M: +86 138 0000 0188",
          "18F, 1000 Century Avenue, Pudong, Shanghai"]
NW_DISC = ("CONFIDENTIALITY NOTICE: This email and any attachments are for the sole use of the intended recipient(s) "
           "and may contain confidential and privileged information. Any unauthorized review, use, disclosure or "
           "distribution is prohibited. If you are not the intended recipient, please contact the sender by reply "
           "email and destroy all copies of the original message.")
CONTOSO_SIG = ["Li Ming", "IT Administrator", "Contoso Manufacturing Company Limited",
               "Tel: +852 2555 0142 | Fax: +852 2555 0143"]
CONTOSO_DISC = ("This e-mail message (including any attachment) is intended only for the named recipient(s) and may "
                "contain confidential information. If you have received it in error, please notify the sender and "
                "delete it. Note: Contoso Manufacturing Company Limited accepts no liability for any damage caused by "
                "any virus transmitted by this email.")
FAB_SIG = ["Tom Baker", "BI Platform Lead, Fabrikam Data Services Inc.", "+1 (425) 555-0117"]
FAB_DISC = ("The information contained in this message is confidential and intended only for the use of the "
            "addressee. If you are not the addressee, note that any disclosure, copying or distribution is strictly "
            "prohibited.")
GC_SIG = ["Mike Alvarez", "Gulf Coast Analytics LLC", "Houston, TX | (713) 555-0164"]
EG_SIG = ["Chen Hao", "Reporting Systems, IT Department", "Eastgate Securities Co., Ltd.",
          "Tel: +86 755 5555 0630"]
EG_DISC = ("Disclaimer: This email is intended solely for the addressee. Eastgate Securities does not accept "
           "liability for the contents of this email. Investment involves risk.")

HX_SIG = ["赵磊", "北京华信恒通科技发展有限公司 | 信息中心", "电话：010-5555 0606  手机：139 0000 0606",
          "地址：北京市海淀区中关村大街 1 号"]
HX_DISC = ["本邮件及其附件含有北京华信恒通科技发展有限公司的保密信息，仅限于发送给上面地址中列出的个人或群组。"
           "禁止任何其他人以任何形式使用（包括但不限于全部或部分地泄露、复制、或散发）本邮件中的信息。"
           "如果您错收了本邮件，请您立即电话或邮件通知发件人并删除本邮件！",
           "This e-mail and its attachments contain confidential information from Huaxin Hengtong, which is intended "
           "only for the person or entity whose address is listed above."]
YF_SIG = ["李娜", "杭州云帆信息技术股份有限公司 运维部", "手机：186 0000 0701", "杭州市滨江区网商路 699 号"]
YF_DISC = "【保密声明】本邮件可能包含保密信息，如非指定收件人，请勿阅读、使用或转发，并请立即删除。"
MY_SIG = ["张伟", "上海明远数据科技有限公司 信息技术部", "电话：021-5555 0123"]
XH_SIG = ["王芳", "深圳市前海星河软件有限公司", "数据平台部", "Tel: 0755-5555 1010"]
NF_SIG = ["广州南方物流集团有限公司 信息中心", "联系人：陈工 020-5555 0418"]
RC_SIG = ["刘洋", "成都蓉城数智科技有限公司", "手机：135 0000 0808"]


def en_rows(company, project, date, method, nodes, version, jar, labels=None):
    labels = labels or ["Company name", "Project name", "Contract signing date", "Registration method",
                        "Maximum number of registration", "Project Version", "JAR package version"]
    rows = list(zip(labels, [company, project, date, method, nodes, version, jar]))
    return [(k, v) for k, v in rows if v is not None]


def zh_rows(company, project, date, method, nodes, version, jar, labels=None):
    labels = labels or ["公司名称", "项目名称", "合同签订日期", "注册方式", "最大注册数量", "项目版本", "JAR包版本"]
    rows = list(zip(labels, [company, project, date, method, nodes, version, jar]))
    return [(k, v) for k, v in rows if v is not None]


MAILS = []


def mail(**kw):
    MAILS.append(kw)


# =========================================================================== Outlook, English

mail(file="outlook-en-01-table-legal-form.eml", client="outlook", lang="en", decision="issue", codes=[],
     shows="MsoNormal table (label cell, value cell, no colons); company written `Co.,Ltd` without the space and final dot",
     name="Alice Chen", **{"from": "alice@northwind.example"}, when="2026-11-23 10:14:02 +0800",
     subject=EN_SUBJ.format("Northwind Trading Co., Ltd.", "FineReport"),
     body=["Dear FanRuan business team,", "",
           "Please find below the registration information for our FineReport project. We would like to use "
           "Local Container Authentication.", "",
           ("table", en_rows("Northwind Trading Co.,Ltd", "nw-report", "2026/11/20", "Local Container Authentication",
                             "2", "11.0.20", "2024.03.11 (Build#persist-2024.03.11.17.07.44.37)")), "",
           "Thank you in advance.", "", "Best regards,", ("sig", NW_SIG), "", NW_DISC])

mail(file="outlook-en-02-numbered-fabrikam.eml", client="outlook", lang="en", decision="issue", codes=[],
     shows="numbered labels `1. Company name:`; company `Fabrikam Data Services, Inc.` (comma before Inc.); FineBI 6.0",
     name="Tom Baker", **{"from": "tom.baker@fabrikam.example"}, when="2026-11-17 09:02:41 -0800",
     subject=EN_SUBJ.format("Fabrikam Data Services Inc.", "FineBI"),
     body=["Hello,", "", "We'd like to register our FineBI production server. Details:", ""]
     + numbered(en_rows("Fabrikam Data Services, Inc.", "fabrikam-bi", "2026/01/20", "Local Container Authentication",
                        "5", "FineBI 6.0.18", "2024.06.26")) +
     ["", "Please let me know if you need anything else.", "", "Thanks,", ("sig", FAB_SIG), "", FAB_DISC])

mail(file="outlook-en-03-nodes-over-contract.eml", client="outlook", lang="en", decision="reject",
     codes=["nodes_exceed_contract"],
     shows="a clean request for 4 cluster nodes; the contract allows 2",
     name="Li Ming", **{"from": "li.ming@contoso-mfg.example"}, when="2026-11-18 14:40:19 +0800",
     subject=EN_SUBJ.format("Contoso Manufacturing Company Limited", "FineReport"),
     body=["Dear Sir/Madam,", "",
           "We are deploying FineReport as a 4-node cluster. Please generate the Container.lic for the project below.",
           ""] + kv(en_rows("Contoso Manufacturing Company Limited", "contoso-mes-report", "2026/03/15",
                            "Local Container Authentication", "4", "11.0.20",
                            "Build#persist-2024.03.11.17.07.44.37")) +
     ["", "Regards,", ("sig", CONTOSO_SIG), "", "Please consider the environment before printing this e-mail.",
      CONTOSO_DISC])

mail(file="outlook-en-04-reply-change-nodes.eml", client="outlook", lang="en", decision="hold",
     codes=["fields_from_quoted_message"],
     shows="a reply above the quoted original asks for 3 nodes instead of 2: the fields below are not what is wanted now",
     name="Alice Chen", **{"from": "alice@northwind.example"}, when="2026-11-23 11:02:37 +0800",
     reply_to_mid="000001db3d4e$6a7b8c90$3f72a5b0$@northwind.example",
     subject="RE: " + EN_SUBJ.format("Northwind Trading Co., Ltd.", "FineReport"),
     body=["Hi team,", "",
           "Sorry, a correction to my request below: we are adding a third node, so please make the license for "
           "3 nodes instead of 2. Everything else stays the same.", "", "Thanks,", "Alice", "",
           ("quote", ["From: Alice Chen <alice@northwind.example>", "Sent: Monday, November 23, 2026 10:14 AM",
                      "To: license@vendor.example",
                      "Subject: " + EN_SUBJ.format("Northwind Trading Co., Ltd.", "FineReport")],
            ["Dear FanRuan business team,", "", "Please register our FineReport project:", ""]
            + kv(en_rows("Northwind Trading Co., Ltd.", "nw-report", "2026/11/20", "Local Container Authentication",
                         "2", "11.0.20", "2024.03.11 (Build#persist-2024.03.11.17.07.44.37)"))
            + ["", "Best regards,", "Alice Chen"])])

mail(file="outlook-en-05-private-cloud-dr-remark.eml", client="outlook", lang="en", decision="hold",
     codes=["special_requirements"],
     shows="private cloud request with `Remarks:` asking that the authorization component may also run in the DR site",
     name="Chen Hao", **{"from": "reports@eastgate-sec.example"}, when="2026-11-19 16:25:50 +0800",
     subject=EN_SUBJ.format("Eastgate Securities Co., Ltd.", "FineReport"),
     body=["Dear FanRuan colleagues,", "",
           "Please issue the private cloud authorization image for our reporting platform.", ""]
     + kv(en_rows("Eastgate Securities Co., Ltd.", "eg-risk-report", "2026/05/08", "Private cloud (container)",
                  "6", "11.0.20", "2024.03.11")) +
     ["", "Remarks: our disaster-recovery site runs a cold standby of the same project. Please confirm that we "
          "may deploy a second authorization component there, or issue a second image for it.", "",
      "Best regards,", ("sig", EG_SIG), "", EG_DISC])

# =========================================================================== Outlook, Chinese

mail(file="outlook-zh-01-gb2312-list.eml", client="outlook", lang="zh", decision="issue", codes=[],
     shows="GB2312 base64 text and HTML, full-width colons, 合同签订日期 written 2026年6月6日, bilingual disclaimer",
     name="赵磊", **{"from": "zhao.lei@huaxin-ht.example"}, when="2026-11-16 10:31:08 +0800",
     subject=ZH_SUBJ.format("北京华信恒通科技发展有限公司", "FineReport"),
     body=["您好：", "", "我司申请 FineReport 本地容器认证注册，信息如下，请协助生成授权文件，谢谢！", ""]
     + kv(zh_rows("北京华信恒通科技发展有限公司", "hxht-report", "2026年6月6日", "本地容器认证", "3", "11.0.20",
                  "2024.01.29"), "：") +
     ["", "此致", "敬礼！", ("sig", HX_SIG), ""] + HX_DISC)

mail(file="outlook-zh-02-private-cloud-table.eml", client="outlook", lang="zh", decision="issue", codes=[],
     shows="FineBI private cloud (私有云) request in an Outlook table; the image is issued",
     name="张伟", **{"from": "zhang.wei@mingyuan-data.example"}, when="2026-11-20 15:48:12 +0800",
     subject=ZH_SUBJ.format("上海明远数据科技有限公司", "FineBI"),
     body=["FanRuan商务同事，您好：", "", "我司 FineBI 运维平台申请私有云认证，注册信息如下：", "",
           ("table", zh_rows("上海明远数据科技有限公司", "mingyuan-bi", "2026/09/01", "私有云认证", "4",
                             "6.0.18", "2024.05.20"))
           , "", "请将授权镜像发送至本邮箱，谢谢！", "", "张伟", ("sig", MY_SIG[1:])])

mail(file="outlook-zh-03-private-cloud-not-in-contract.eml", client="outlook", lang="zh", decision="reject",
     codes=["method_not_in_contract"],
     shows="asks for 私有云 (private cloud); the contract allows local container only",
     name="赵磊", **{"from": "zhao.lei@huaxin-ht.example"}, when="2026-11-24 09:12:44 +0800",
     subject=ZH_SUBJ.format("北京华信恒通科技发展有限公司", "FineReport"),
     body=["您好，", "", "我司新部署的 FineReport 运维项目希望使用私有云认证，注册信息如下：", ""]
     + kv(zh_rows("北京华信恒通科技发展有限公司", "hxht-fineops", "2026/06/06", "私有云", "2", "11.0.20",
                  "2024.01.29"), "：") +
     ["", "谢谢！", ("sig", HX_SIG), ""] + HX_DISC)

mail(file="outlook-zh-04-two-projects.eml", client="outlook", lang="zh", decision="hold", codes=[],
     shows="two projects (测试环境 and 生产环境) in one mail, each with its own fields",
     name="李娜", **{"from": "li.na@yunfan-tech.example"}, when="2026-11-12 17:20:03 +0800",
     subject=ZH_SUBJ.format("杭州云帆信息技术股份有限公司", "FineReport"),
     body=["您好！", "", "我司有测试、生产两套 FineReport 环境需要注册，信息如下：", "",
           "一、测试环境", ""]
     + kv(zh_rows("杭州云帆信息技术股份有限公司", "yf-report-test", "2026/07/01", "本地容器", "1", "11.0.20",
                  "2024.03.11"), "：") +
     ["", "二、生产环境", ""]
     + kv(zh_rows("杭州云帆信息技术股份有限公司", "yf-report-prod", "2026/07/01", "本地容器", "6", "11.0.20",
                  "2024.03.11"), "：") +
     ["", "麻烦分别生成授权文件，谢谢！", ("sig", YF_SIG), "", YF_DISC])

# =========================================================================== Foxmail, Chinese

mail(file="foxmail-zh-01-single-node.eml", client="foxmail", lang="zh", decision="issue", codes=[],
     shows="FineBI 6.1 single node: no node count line (defaults to 1); Foxmail signature rule",
     name="王芳", **{"from": "wang.fang@xinghe-soft.example"}, when="2026-11-13 11:05:29 +0800",
     subject=ZH_SUBJ.format("深圳市前海星河软件有限公司", "FineBI"),
     body=["您好！", "", "我司 FineBI 单机部署，申请本地容器认证授权，信息如下：", ""]
     + kv(zh_rows("深圳市前海星河软件有限公司", "xinghe-bi", "2026/10/10", "本地容器认证", None, "FineBI 6.1.3",
                  "2025.08.14"), "：") +
     ["", "谢谢！", ("sig", XH_SIG)])

mail(file="foxmail-zh-02-numbered-fullwidth.eml", client="foxmail", lang="zh", decision="issue", codes=[],
     shows="numbered with 、 (`1、公司名称：`), label 集群节点数, company with a space before 股份有限公司",
     name="李娜", **{"from": "ops@yunfan-tech.example"}, when="2026-11-10 14:22:50 +0800",
     subject=ZH_SUBJ.format("杭州云帆信息技术股份有限公司", "FineReport"),
     body=["FanRuan 商务您好：", "", "现提交我司 FineReport 项目注册信息：", ""]
     + numbered(zh_rows("杭州云帆信息技术 股份有限公司", "yunfan-bigscreen", "2026/07/01", "本地容器", "8",
                        "11.0.20", "Build#persist-2024.03.11.17.07.44.37",
                        labels=["公司名称", "项目名称", "合同签订日期", "注册方式", "集群节点数", "项目版本", "JAR包版本"]),
                "：", "{n}、") +
     ["", "麻烦尽快处理，谢谢！", ("sig", YF_SIG)])

mail(file="foxmail-zh-03-wrong-signing-date.eml", client="foxmail", lang="zh", decision="reject",
     codes=["signing_date_mismatch"],
     shows="合同签订日期 2026/07/10; the contract was signed 2026/07/01",
     name="李娜", **{"from": "li.na@yunfan-tech.example"}, when="2026-11-09 10:01:15 +0800",
     subject=ZH_SUBJ.format("杭州云帆信息技术股份有限公司", "FineReport"),
     body=["您好，", "", "申请 FineReport 本地容器注册，信息如下：", ""]
     + kv(zh_rows("杭州云帆信息技术股份有限公司", "yunfan-finance", "2026/07/10", "本地容器认证", "4", "11.0.20",
                  "2024.03.11"), "：") + ["", "谢谢", ("sig", YF_SIG)])

mail(file="foxmail-zh-04-special-circumstances.eml", client="foxmail", lang="zh", decision="hold",
     codes=["special_requirements"],
     shows="a clean request with `特殊情况说明：` (two of the 4 nodes in another city's data centre)",
     name="张伟", **{"from": "zhang.wei@mingyuan-data.example"}, when="2026-11-18 16:40:02 +0800",
     subject=ZH_SUBJ.format("上海明远数据科技有限公司", "FineBI"),
     body=["您好！", "", "现申请 FineBI 正式授权，注册信息如下：", ""]
     + kv(zh_rows("上海明远数据科技有限公司", "mingyuan-bi-cluster", "2026/09/01", "本地容器", "4", "6.0.18",
                  "2024.05.20"), "：") +
     ["", "特殊情况说明：集群中有两个节点部署在成都灾备机房，与上海机房网络隔离，时间同步由各自机房的NTP保证，请确认授权是否支持。",
      "", "此致", "敬礼", ("sig", MY_SIG)])

# =========================================================================== Foxmail, English

mail(file="foxmail-en-01-legal-form-co-ltd.eml", client="foxmail", lang="en", decision="issue", codes=[],
     shows="company `Contoso Manufacturing Co., Ltd.` for the contract's `Company Limited`; signature with a `Note:` disclaimer",
     name="Li Ming", **{"from": "li.ming@contoso-mfg.example"}, when="2026-11-11 10:48:33 +0800",
     subject=EN_SUBJ.format("Contoso Manufacturing Co., Ltd.", "FineReport"),
     body=["Dear FanRuan team,", "", "Please help to register our FineReport project with the information below.", ""]
     + kv(en_rows("Contoso Manufacturing Co., Ltd.", "contoso-qms", "2026/03/15", "Local Container Authentication",
                  "2", "11.0.20", "2024.03.11")) +
     ["", "Thanks & Best Regards", ("sig", CONTOSO_SIG), "", CONTOSO_DISC])

mail(file="foxmail-en-02-bilingual-labels.eml", client="foxmail", lang="en", decision="issue", codes=[],
     shows="bilingual labels `Company name / 公司名称:` with the Chinese company name, GB2312 text",
     name="Zhang Wei", **{"from": "zhang.wei@mingyuan-data.example"}, when="2026-11-19 09:33:10 +0800",
     subject=EN_SUBJ.format("上海明远数据科技有限公司", "FineBI"),
     body=["Dear FanRuan team,", "", "Registration information for our FineBI server:", ""]
     + kv(en_rows("上海明远数据科技有限公司", "mingyuan-ops-bi", "2026/09/01", "Local Container Authentication", "2",
                  "FineBI 6.0.18", "2024.05.20",
                  labels=["Company name / 公司名称", "Project name / 项目名称", "Contract signing date / 合同签订日期",
                          "Registration method / 注册方式", "Maximum number of registration / 最大注册数量",
                          "Project Version / 项目版本", "JAR package version / JAR包版本"])) +
     ["", "Best regards", ("sig", ["Zhang Wei", "Shanghai Mingyuan Data Technology Co., Ltd."])])

mail(file="foxmail-en-03-two-projects-table.eml", client="foxmail", lang="en", decision="hold", codes=[],
     shows="one mail asks for two projects (test and production) with two field blocks",
     name="Li Ming", **{"from": "it-admin@contoso-mfg.example"}, when="2026-11-16 15:10:45 +0800",
     subject=EN_SUBJ.format("Contoso Manufacturing Company Limited", "FineReport"),
     body=["Hi,", "", "We need licenses for two FineReport projects:", "", "Project 1 (UAT):"]
     + kv(en_rows("Contoso Manufacturing Company Limited", "contoso-uat", "2026/03/15", "Local Container Authentication",
                  "1", "11.0.20", "2024.03.11")) +
     ["", "Project 2 (Production):"]
     + kv(en_rows("Contoso Manufacturing Company Limited", "contoso-prod", "2026/03/15", "Local Container Authentication",
                  "2", "11.0.20", "2024.03.11")) +
     ["", "Thank you!", ("sig", CONTOSO_SIG)])

# =========================================================================== QQ Mail, Chinese

mail(file="qq-zh-01-plain-list.eml", client="qq", lang="zh", decision="issue", codes=[],
     shows="QQ Mail GB18030 base64; fields with full-width colons; QQ signature after `------------------`",
     name="刘洋", **{"from": "2876543210@qq.com"}, when="2026-11-14 20:16:37 +0800",
     subject=ZH_SUBJ.format("成都蓉城数智科技有限公司", "FineReport"),
     body=["您好！", "我公司申请FineReport本地容器认证，信息如下：", ""]
     + kv(zh_rows("成都蓉城数智科技有限公司", "rongcheng-report", "2026/08/08", "本地容器认证", "2", "11.0.20",
                  "2024.03.11"), "：") + ["", "谢谢！", ("sig", RC_SIG)])

mail(file="qq-zh-02-bilingual-table.eml", client="qq", lang="zh", decision="issue", codes=[],
     shows="HTML table with bilingual labels `公司名称 Company name`, no colons",
     name="刘洋", **{"from": "2876543210@qq.com"}, when="2026-11-21 10:03:12 +0800",
     subject=ZH_SUBJ.format("成都蓉城数智科技有限公司", "FineReport"),
     body=["您好，注册信息见下表：", "",
           ("table", zh_rows("成都蓉城数智科技有限公司", "rc-datav", "2026/08/08", "本地容器", "1", "11.0.20",
                             "2024.03.11",
                             labels=["公司名称 Company name", "项目名称 Project name", "合同签订日期 Contract signing date",
                                     "注册方式 Registration method", "最大注册数量 Maximum number of registration",
                                     "项目版本 Project Version", "JAR包版本 JAR package version"])),
           "", "谢谢", ("sig", RC_SIG)])

mail(file="qq-zh-03-remark-temporary.eml", client="qq", lang="zh", decision="hold", codes=["special_requirements"],
     shows="`备注：` asks for a 30-day temporary license first and the formal one later",
     name="刘洋", **{"from": "2876543210@qq.com"}, when="2026-11-25 18:45:09 +0800",
     subject=ZH_SUBJ.format("成都蓉城数智科技有限公司", "FineReport"),
     body=["您好！", ""]
     + kv(zh_rows("成都蓉城数智科技有限公司", "rc-screen", "2026/08/08", "本地容器认证", "2", "11.0.20",
                  "2024.03.11"), "：") +
     ["备注：项目下周一上线，正式服务器还在采购，麻烦先给一个30天的临时授权，服务器到位后再换正式授权。", "", "谢谢！",
      ("sig", RC_SIG)])

# =========================================================================== QQ Mail, English

mail(file="qq-en-01-english-chinese-company.eml", client="qq", lang="en", decision="issue", codes=[],
     shows="English body from a qq.com contract address, company name in Chinese as in the contract",
     name="Liu Yang", **{"from": "2876543210@qq.com"}, when="2026-11-12 13:30:26 +0800",
     subject=EN_SUBJ.format("成都蓉城数智科技有限公司", "FineReport"),
     body=["Dear FanRuan,", "", "Please register our FineReport project.", ""]
     + kv(en_rows("成都蓉城数智科技有限公司", "chengdu-ops", "2026/08/08", "Local Container Authentication", "2",
                  "11.0.20", "2024.03.11")) + ["", "Thank you.", ("sig", ["Liu Yang", "Chengdu Rongcheng"])])

mail(file="qq-en-02-nodes-over-contract.eml", client="qq", lang="en", decision="reject",
     codes=["nodes_exceed_contract"],
     shows="3 nodes; the contract allows 2",
     name="Liu Yang", **{"from": "2876543210@qq.com"}, when="2026-11-15 09:58:00 +0800",
     subject=EN_SUBJ.format("成都蓉城数智科技有限公司", "FineReport"),
     body=["Hello,", "", "Registration info for our 3-node cluster:", ""]
     + kv(en_rows("成都蓉城数智科技有限公司", "rc-cluster", "2026/08/08", "Local Container Authentication", "3",
                  "11.0.20", "2024.03.11")) + ["", "Thanks", ("sig", ["Liu Yang"])])

mail(file="qq-en-03-table.eml", client="qq", lang="en", decision="issue", codes=[],
     shows="English labels in an HTML table without colons",
     name="Liu Yang", **{"from": "2876543210@qq.com"}, when="2026-11-26 11:11:11 +0800",
     subject=EN_SUBJ.format("成都蓉城数智科技有限公司", "FineReport"),
     body=["Hi FanRuan team,", "", "Our registration details:", "",
           ("table", en_rows("成都蓉城数智科技有限公司", "rc-finance-report", "2026/08/08",
                             "Local Container Authentication", "1", "11.0.20", "2024.03.11")),
           "", "Many thanks!", ("sig", ["Liu Yang"])])

# =========================================================================== NetEase 163, Chinese

mail(file="163-zh-01-plain.eml", client="163", lang="zh", decision="issue", codes=[],
     shows="163 webmail GBK base64, Coremail X-Mailer; 最大注册数 label; company with full-width （集团） spacing as contract",
     name="南方物流信息中心", **{"from": "nanfang_it@163.com"}, when="2026-11-10 10:02:45 +0800",
     subject=ZH_SUBJ.format("广州南方物流集团有限公司", "FineReport"),
     body=["您好：", "我司申请FineReport正式授权注册，相关信息如下：", ""]
     + kv(zh_rows("广州南方物流集团有限公司", "nanfang-tms-report", "2026/04/18", "本地容器", "4", "11.0.20",
                  "2024.03.11", labels=["公司名称", "项目名称", "合同签订日期", "注册方式", "最大注册数", "项目版本",
                                        "JAR包版本"]), "：") + ["", "谢谢！", ("sig", NF_SIG)])

mail(file="163-zh-02-jar-too-old.eml", client="163", lang="zh", decision="reject", codes=["jar_too_old"],
     shows="JAR包版本 2021.06.18, before 2021-10-30, for a local container",
     name="南方物流信息中心", **{"from": "nanfang_it@163.com"}, when="2026-11-12 15:27:31 +0800",
     subject=ZH_SUBJ.format("广州南方物流集团有限公司", "FineReport"),
     body=["您好：", "申请旧报表服务器的本地容器授权，信息如下：", ""]
     + kv(zh_rows("广州南方物流集团有限公司", "nanfang-legacy", "2026/04/18", "本地容器认证", "1", "11.0.3",
                  "2021.06.18"), "：") + ["", "谢谢！", ("sig", NF_SIG)])

mail(file="163-zh-03-cancel-old-server.eml", client="163", lang="zh", decision="hold", codes=["cancel_request"],
     shows="asks to cancel (注销) the registration of the old server before migrating",
     name="南方物流信息中心", **{"from": "nanfang_it@163.com"}, when="2026-11-20 09:40:18 +0800",
     subject="关于广州南方物流集团有限公司注销旧服务器FineReport注册的申请",
     body=["您好：", "",
           "我司报表项目 nanfang-tms-report 要迁移到新服务器，旧服务器（10.8.1.23）已停用，"
           "麻烦注销旧服务器上的注册授权，以便新服务器使用同一个 Container.lic 注册。", "",
           "公司名称：广州南方物流集团有限公司", "项目名称：nanfang-tms-report", "合同签订日期：2026/04/18", "",
           "谢谢！", ("sig", NF_SIG)])

# =========================================================================== NetEase 163, English

mail(file="163-en-01-bilingual-company.eml", client="163", lang="en", decision="issue", codes=[],
     shows="English body from 163.com; company field gives the Chinese name with its English translation in parentheses",
     name="nanfang_it", **{"from": "nanfang_it@163.com"}, when="2026-11-17 11:20:40 +0800",
     subject=EN_SUBJ.format("广州南方物流集团有限公司", "FineReport"),
     body=["Dear FanRuan Business,", "", "Please find our registration information:", ""]
     + kv(en_rows("广州南方物流集团有限公司 (Guangzhou Nanfang Logistics Group Co., Ltd.)", "nanfang-wms", "2026/04/18",
                  "Local Container Authentication", "2", "11.0.20", "2024.03.11")) +
     ["", "Best regards,", "IT Center, Guangzhou Nanfang Logistics Group"])

mail(file="163-en-02-bold-labels.eml", client="163", lang="en", decision="issue", codes=[],
     shows="labels in bold in the HTML, `Max nodes`-style label `Number of nodes`, version `FineReport 11.0.20`",
     name="nanfang_it", **{"from": "nanfang_it@163.com"}, when="2026-11-23 14:05:12 +0800",
     subject=EN_SUBJ.format("广州南方物流集团有限公司", "FineReport"),
     body=["Hello,", "", "Registration request:", ""]
     + [("bold", k + ":", v) for k, v in en_rows("广州南方物流集团有限公司", "nanfang-finance", "2026/04/18",
                                                   "Local Container Authentication", "3", "FineReport 11.0.20",
                                                   "2024.03.11",
                                                   labels=["Company name", "Project name", "Contract signing date",
                                                           "Registration method", "Number of nodes",
                                                           "Project Version", "JAR package version"])]
     + ["", "Thanks!", "Nanfang IT"])

mail(file="163-en-03-numbered.eml", client="163", lang="en", decision="issue", codes=[],
     shows="numbered `1)` labels and a date written 2026-04-18",
     name="nanfang_it", **{"from": "nanfang_it@163.com"}, when="2026-11-27 08:50:06 +0800",
     subject=EN_SUBJ.format("广州南方物流集团有限公司", "FineReport"),
     body=["Hi,", "", "Please issue the license for:", ""]
     + numbered(en_rows("广州南方物流集团有限公司", "nanfang-hr", "2026-04-18", "Local Container Authentication", "1",
                        "11.0.20", "2024.03.11"), ": ", "{n}) ") + ["", "Regards,", "Nanfang IT Center"])

# =========================================================================== WeCom, Chinese

mail(file="wecom-zh-01-html-only-table.eml", client="wecom", lang="zh", decision="issue", codes=[],
     shows="HTML-only (no text part), fields in a table without colons, UTF-8 base64",
     name="李娜", **{"from": "li.na@yunfan-tech.example"}, when="2026-11-19 11:03:55 +0800", html_only=True,
     subject=ZH_SUBJ.format("杭州云帆信息技术股份有限公司", "FineReport"),
     body=["您好！", "注册信息如下：",
           ("table", zh_rows("杭州云帆信息技术股份有限公司", "yunfan-ops-report", "2026/07/01", "本地容器认证", "8",
                             "11.0.20", "2024.03.11")), "", "谢谢！", ("sig", YF_SIG)])

mail(file="wecom-zh-02-four-nodes.eml", client="wecom", lang="zh", decision="issue", codes=[],
     shows="WeCom mail, UTF-8; 集群节点数：4个 (unit after the number), 项目版本 `FineBI 6.0（6.0.18）`",
     name="张伟", **{"from": "it@mingyuan-data.example"}, when="2026-11-24 13:15:20 +0800",
     subject=ZH_SUBJ.format("上海明远数据科技有限公司", "FineBI"),
     body=["商务同事您好：", "", "我司 FineBI 集群申请本地容器认证，信息如下：", ""]
     + kv(zh_rows("上海明远数据科技有限公司", "mingyuan-bi-prod", "2026/09/01", "本地容器", "4个", "FineBI 6.0（6.0.18）",
                  "2024.05.20", labels=["公司名称", "项目名称", "合同签订日期", "注册方式", "集群节点数", "项目版本",
                                        "JAR包版本"]), "：") + ["", "谢谢！", ("sig", MY_SIG)])

mail(file="wecom-zh-03-wrong-product.eml", client="wecom", lang="zh", decision="reject", codes=["version_mismatch"],
     shows="asks for FineReport 11.0 under a FineBI 6.1 contract",
     name="王芳", **{"from": "wang.fang@xinghe-soft.example"}, when="2026-11-20 10:22:10 +0800",
     subject=ZH_SUBJ.format("深圳市前海星河软件有限公司", "FineReport"),
     body=["您好，", "", "我司申请 FineReport 本地容器认证，信息如下：", ""]
     + kv(zh_rows("深圳市前海星河软件有限公司", "xinghe-report", "2026/10/10", "本地容器认证", "1", "FineReport 11.0.20",
                  "2024.03.11"), "：") + ["", "谢谢！", ("sig", XH_SIG)])

# =========================================================================== WeCom, English

mail(file="wecom-en-01-private-cloud.eml", client="wecom", lang="en", decision="issue", codes=[],
     shows="English private cloud request for FineBI from WeCom mail; the image is issued",
     name="Zhang Wei", **{"from": "zhang.wei@mingyuan-data.example"}, when="2026-11-25 10:40:00 +0800",
     subject=EN_SUBJ.format("上海明远数据科技有限公司", "FineBI"),
     body=["Dear FanRuan team,", "", "We are deploying with FineOps and would like the container private cloud "
           "authorization.", ""]
     + kv(en_rows("上海明远数据科技有限公司", "mingyuan-fineops-bi", "2026/09/01", "Private Cloud", "3",
                  "FineBI 6.0.18", "2024.05.20")) +
     ["", "Special requirements: none", "", "Best regards,", ("sig", ["Zhang Wei", "IT Department"])])

mail(file="wecom-en-02-migration-cancel-and-new.eml", client="wecom", lang="en", decision="hold", codes=[],
     shows="moving to a new server: asks to cancel the old server's registration and issue for the new one",
     name="Li Na", **{"from": "ops@yunfan-tech.example"}, when="2026-11-26 16:33:21 +0800",
     subject=EN_SUBJ.format("杭州云帆信息技术股份有限公司", "FineReport"),
     body=["Hello FanRuan team,", "",
           "We are replacing the server of our project yunfan-bigscreen (old host 10.20.1.15). Please cancel the "
           "registration on the old server so that we can register the new one with the same Container.lic.", "",
           "The registration information:", ""]
     + kv(en_rows("杭州云帆信息技术股份有限公司", "yunfan-bigscreen", "2026/07/01", "Local Container Authentication", "8",
                  "11.0.20", "2024.03.11")) + ["", "Thanks,", ("sig", ["Li Na", "Operations"])])

mail(file="wecom-en-03-finebi-61.eml", client="wecom", lang="en", decision="issue", codes=[],
     shows="FineBI 6.1 in English, `Maximum number of registration: 1 (single node)`",
     name="Wang Fang", **{"from": "wang.fang@xinghe-soft.example"}, when="2026-11-27 09:20:45 +0800",
     subject=EN_SUBJ.format("深圳市前海星河软件有限公司", "FineBI"),
     body=["Hi,", "", "Please register:", ""]
     + kv(en_rows("深圳市前海星河软件有限公司", "xinghe-bi-en", "2026/10/10", "Local Container Authentication",
                  "1 (single node)", "6.1.3", "2025.08.14")) + ["", "Thanks", ("sig", ["Wang Fang"])])

# =========================================================================== Gmail, English

mail(file="gmail-en-01-bold-labels.eml", client="gmail", lang="en", decision="issue", codes=[],
     shows="Gmail QP with `*Company name:*` bold markers in the text part, `<b>` in the HTML",
     name="Gulf Coast Analytics", **{"from": "gulfcoast.analytics@gmail.com"}, when="2026-11-16 08:41:12 -0600",
     subject=EN_SUBJ.format("Gulf Coast Analytics LLC", "FineReport"),
     body=["Hi FanRuan team,", "", "Here is our registration info:", ""]
     + [("bold", k + ":", v) for k, v in en_rows("Gulf Coast Analytics LLC", "gca-reporting", "2026/02/02",
                                                   "Local Container Authentication", "3", "11.0.20",
                                                   "2024.03.11")]
     + ["", "Thanks!", ("sig", GC_SIG)])

mail(file="gmail-en-02-missing-project.eml", client="gmail", lang="en", decision="reject",
     codes=["missing_field_project_name"],
     shows="no project name at all",
     name="Gulf Coast Analytics", **{"from": "gulfcoast.analytics@gmail.com"}, when="2026-11-18 12:05:40 -0600",
     subject=EN_SUBJ.format("Gulf Coast Analytics LLC", "FineReport"),
     body=["Hello,", "", "Please register our server:", ""]
     + kv(en_rows("Gulf Coast Analytics LLC", None, "2026/02/02", "Local Container Authentication", "1", "11.0.20",
                  "2024.03.11")) + ["", "Mike", ("sig", GC_SIG)])

mail(file="gmail-en-03-reply-change-project.eml", client="gmail", lang="en", decision="hold",
     codes=["fields_from_quoted_message"],
     shows="a reply above the quoted original: `please use project name gca-prod instead`",
     name="Gulf Coast Analytics", **{"from": "gulfcoast.analytics@gmail.com"}, when="2026-11-16 09:12:03 -0600",
     reply_to_mid="CAKx7b2Fq0r9hXJ8sZp4=W3mVn1+Yt6Lc2dQe0uR5gA8kN1vO2w@mail.gmail.com",
     subject="Re: " + EN_SUBJ.format("Gulf Coast Analytics LLC", "FineReport"),
     body=["Sorry, small change: please use the project name gca-prod instead of gca-reporting. Everything else "
           "is the same.", "", "Mike",
           ("quote", ["On Mon, Nov 16, 2026 at 8:41 AM Gulf Coast Analytics <gulfcoast.analytics@gmail.com> wrote:"],
            ["Hi FanRuan team,", "", "Here is our registration info:", ""]
            + kv(en_rows("Gulf Coast Analytics LLC", "gca-reporting", "2026/02/02", "Local Container Authentication",
                         "3", "11.0.20", "2024.03.11")) + ["", "Thanks!"])])

# =========================================================================== Gmail, Chinese (Google Workspace)

mail(file="gmail-zh-01-workspace-list.eml", client="gmail", lang="zh", decision="issue", codes=[],
     shows="Gmail (Google Workspace) in Chinese: UTF-8 base64, full-width colons",
     name="赵磊", **{"from": "zhao.lei@huaxin-ht.example"}, when="2026-11-25 14:30:00 +0800",
     subject=ZH_SUBJ.format("北京华信恒通科技发展有限公司", "FineReport"),
     body=["您好，", "", "申请 FineReport 注册，信息如下：", ""]
     + kv(zh_rows("北京华信恒通科技发展有限公司", "hxht-dashboard", "2026/06/06", "本地容器", "2", "11.0.20",
                  "2024.01.29"), "：") + ["", "谢谢！", ("sig", HX_SIG[:2])])

mail(file="gmail-zh-02-bold-bilingual.eml", client="gmail", lang="zh", decision="issue", codes=[],
     shows="bold bilingual labels `公司名称（Company name）：` with full-width parentheses",
     name="李娜", **{"from": "li.na@yunfan-tech.example"}, when="2026-11-28 10:10:10 +0800",
     subject=ZH_SUBJ.format("杭州云帆信息技术股份有限公司", "FineReport"),
     body=["您好！", ""]
     + [("bold", k + "：", v) for k, v in zh_rows("杭州云帆信息技术股份有限公司", "yunfan-crm-report", "2026/07/01",
                                                   "本地容器认证", "2", "11.0.20", "2024.03.11",
                                                   labels=["公司名称（Company name）", "项目名称（Project name）",
                                                           "合同签订日期（Contract signing date）",
                                                           "注册方式（Registration method）",
                                                           "最大注册数量（Maximum number of registration）",
                                                           "项目版本（Project Version）", "JAR包版本（JAR package version）"])]
     + ["", "谢谢", ("sig", YF_SIG[:2])])

mail(file="gmail-zh-03-date-chinese.eml", client="gmail", lang="zh", decision="issue", codes=[],
     shows="FineBI 6.1 single node: `最大注册数量：1`, 合同签订日期 2026年10月10日",
     name="王芳", **{"from": "wang.fang@xinghe-soft.example"}, when="2026-11-26 17:02:33 +0800",
     subject=ZH_SUBJ.format("深圳市前海星河软件有限公司", "FineBI"),
     body=["您好：", ""]
     + kv(zh_rows("深圳市前海星河软件有限公司", "xinghe-bi-report", "2026年10月10日", "本地容器认证", "1",
                  "FineBI 6.1.3", "2025.08.14"), "：") + ["", "辛苦了，谢谢！", ("sig", XH_SIG)])

# =========================================================================== Thunderbird, English

mail(file="thunderbird-en-01-flowed-long-lines.eml", client="thunderbird", lang="en", decision="issue", codes=[],
     shows="plain-text format=flowed: the long Project Version line is soft-broken and must be joined",
     name="Tom Baker", **{"from": "tom.baker@fabrikam.example"}, when="2026-11-19 16:05:44 -0800",
     org="Fabrikam Data Services Inc.",
     subject=EN_SUBJ.format("Fabrikam Data Services Inc.", "FineBI"),
     body=["Hello FanRuan business team,", "",
           "We would like to register the FineBI server of our analytics group, using Local Container "
           "Authentication as described in your registration guide.", ""]
     + kv(en_rows("Fabrikam Data Services Inc.", "fabrikam-analytics", "2026/01/20", "Local Container Authentication",
                  "2", "FineBI 6.0.18 (as shown in System Management > Registration Management > Version Information)",
                  "2024.06.26 (Build#release-2024.06.26.14.21.09.437)")) +
     ["", "Thank you,", ("sig", FAB_SIG)])

mail(file="thunderbird-en-02-old-version.eml", client="thunderbird", lang="en", decision="reject",
     codes=["version_mismatch"],
     shows="Project Version 5.1.24: the contract is for FineBI 6.0",
     name="Tom Baker", **{"from": "bi-team@fabrikam.example"}, when="2026-11-20 10:15:02 -0800",
     subject=EN_SUBJ.format("Fabrikam Data Services Inc.", "FineBI"),
     body=["Hi,", "", "Please register our legacy BI server:", ""]
     + kv(en_rows("Fabrikam Data Services Inc.", "fabrikam-legacy-bi", "2026/01/20", "Local Container Authentication",
                  "1", "5.1.24", "2023.02.14")) + ["", "Thanks,", ("sig", FAB_SIG)])

mail(file="thunderbird-en-03-note-failover.eml", client="thunderbird", lang="en", decision="hold",
     codes=["special_requirements"],
     shows="`Note:` asks whether an active/passive failover pair may share the license",
     name="Tom Baker", **{"from": "tom.baker@fabrikam.example"}, when="2026-11-24 11:45:30 -0800",
     subject=EN_SUBJ.format("Fabrikam Data Services Inc.", "FineBI"),
     body=["Hello,", ""]
     + kv(en_rows("Fabrikam Data Services Inc.", "fabrikam-finance-bi", "2026/01/20",
                  "Local Container Authentication", "1", "FineBI 6.0.18", "2024.06.26")) +
     ["", "Note: this project runs as an active/passive failover pair; the passive VM only starts when the active "
          "one fails. Could the license cover both VMs without counting the passive one as a second node?", "",
      "Thanks,", ("sig", FAB_SIG), "", FAB_DISC])

mail(file="thunderbird-en-04-html-flowed.eml", client="thunderbird", lang="en", decision="issue", codes=[],
     shows="HTML compose: multipart/alternative with a format=flowed text part; `it@` is the contract's second address",
     name="Northwind IT", **{"from": "it@northwind.example"}, when="2026-11-26 09:30:12 +0800", with_html=True,
     subject=EN_SUBJ.format("Northwind Trading Co., Ltd.", "FineReport"),
     body=["Dear FanRuan business personnel,", "",
           "Following our contract signed last week, please generate the local container license for our "
           "FineReport reporting project:", ""]
     + kv(en_rows("Northwind Trading Co., Ltd.", "northwind-finance", "2026/11/20", "Local Container Authentication",
                  "3", "11.0.20", "2024.03.11")) + ["", "Kind regards,", ("sig", ["Northwind IT Service Desk"]), "",
                                                    NW_DISC])

# =========================================================================== Thunderbird, Chinese

mail(file="thunderbird-zh-01-flowed.eml", client="thunderbird", lang="zh", decision="issue", codes=[],
     shows="Chinese plain text format=flowed 8bit, label 最大注册数量（节点数）",
     name="赵磊", **{"from": "zhao.lei@huaxin-ht.example"}, when="2026-11-27 15:20:00 +0800",
     subject=ZH_SUBJ.format("北京华信恒通科技发展有限公司", "FineReport"),
     body=["您好，", "", "我司申请 FineReport 本地容器认证，注册信息如下，请审核：", ""]
     + kv(zh_rows("北京华信恒通科技发展有限公司", "hxht-bigdata", "2026/06/06", "本地容器认证", "3", "11.0.20",
                  "2024.01.29 (Build#persist-2024.01.29.11.32.08.219)",
                  labels=["公司名称", "项目名称", "合同签订日期", "注册方式", "最大注册数量（节点数）", "项目版本",
                          "JAR包版本"]), "：") + ["", "谢谢！", ("sig", HX_SIG[:3])])

mail(file="thunderbird-zh-02-jar-too-old.eml", client="thunderbird", lang="zh", decision="reject",
     codes=["jar_too_old"],
     shows="JAR包版本 2021.08.26, before 2021-10-30",
     name="赵磊", **{"from": "zhao.lei@huaxin-ht.example"}, when="2026-11-28 10:00:00 +0800",
     subject=ZH_SUBJ.format("北京华信恒通科技发展有限公司", "FineReport"),
     body=["您好，", ""]
     + kv(zh_rows("北京华信恒通科技发展有限公司", "hxht-oa-report", "2026/06/06", "本地容器认证", "1", "11.0.20",
                  "2021.08.26"), "：") + ["", "谢谢", ("sig", HX_SIG[:2])])

mail(file="thunderbird-zh-03-html.eml", client="thunderbird", lang="zh", decision="issue", codes=[],
     shows="HTML compose in Chinese, half-width colons with Chinese labels",
     name="王芳", **{"from": "wang.fang@xinghe-soft.example"}, when="2026-11-24 19:08:30 +0800", with_html=True,
     subject=ZH_SUBJ.format("深圳市前海星河软件有限公司", "FineBI"),
     body=["您好!", "", "申请FineBI注册:", ""]
     + kv(zh_rows("深圳市前海星河软件有限公司", "qianhai-bi", "2026/10/10", "本地容器", "1", "6.1.3", "2025.08.14")) +
     ["", "谢谢", ("sig", XH_SIG[:2])])

# =========================================================================== iPhone, English

mail(file="iphone-en-01-plain.eml", client="iphone", lang="en", decision="issue", codes=[],
     shows="iPhone plain text QP, `Sent from my iPhone`, no greeting",
     name="Gulf Coast Analytics", **{"from": "gulfcoast.analytics@gmail.com"}, when="2026-11-21 07:12:09 -0600",
     subject=EN_SUBJ.format("Gulf Coast Analytics LLC", "FineReport"),
     body=kv(en_rows("Gulf Coast Analytics LLC", "gca-ops", "2026/02/02", "Local Container Authentication", "2",
                     "11.0.20", "2024.03.11")) + ["", "Thanks,", "Mike", "", "Sent from my iPhone"])

mail(file="iphone-en-02-wrong-signing-date.eml", client="iphone", lang="en", decision="reject",
     codes=["signing_date_mismatch"],
     shows="contract signing date 2026/11/18 (the quote's date); the contract says 2026/11/20",
     name="Alice Chen", **{"from": "alice@northwind.example"}, when="2026-11-22 21:40:51 +0800",
     subject=EN_SUBJ.format("Northwind Trading Co., Ltd.", "FineReport"),
     body=["Hi,", "", "Registration for our second reporting server:", ""]
     + kv(en_rows("Northwind Trading Co., Ltd.", "nw-logistics", "2026/11/18", "Local Container Authentication", "1",
                  "11.0.20", "2024.03.11")) + ["", "Alice", "", "Sent from my iPhone"])

mail(file="iphone-en-03-html.eml", client="iphone", lang="en", decision="issue", codes=[],
     shows="iPhone multipart/alternative (Apple-Mail boundary), `Company Name` capitalised, `Nodes: 3`",
     name="Alice Chen", **{"from": "alice@northwind.example"}, when="2026-11-28 08:03:44 +0800", with_html=True,
     build="22B91",
     subject=EN_SUBJ.format("Northwind Trading Co., Ltd.", "FineReport"),
     body=["Hello FanRuan,", ""]
     + kv(en_rows("Northwind Trading Co., Ltd.", "nw-warehouse", "2026/11/20", "Local Container Authentication", "3",
                  "11.0.20", "2024.03.11",
                  labels=["Company Name", "Project Name", "Contract Signing Date", "Registration Method", "Nodes",
                          "Project Version", "JAR Package Version"])) + ["", "Thanks", "Alice", "",
                                                                         "Sent from my iPhone"])

# =========================================================================== iPhone, Chinese

mail(file="iphone-zh-01-plain.eml", client="iphone", lang="zh", decision="issue", codes=[],
     shows="iPhone plain QP in Chinese, `发自我的iPhone`, qq.com account",
     name="刘洋", **{"from": "2876543210@qq.com"}, when="2026-11-22 22:15:03 +0800",
     subject=ZH_SUBJ.format("成都蓉城数智科技有限公司", "FineReport"),
     body=["您好，注册信息如下：", ""]
     + kv(zh_rows("成都蓉城数智科技有限公司", "rc-mobile-report", "2026/08/08", "本地容器认证", "2", "11.0.20",
                  "2024.03.11"), "：") + ["", "谢谢", "", "发自我的iPhone"])

mail(file="iphone-zh-02-reply-change-nodes.eml", client="iphone", lang="zh", decision="hold",
     codes=["fields_from_quoted_message"],
     shows="a reply above the quoted request: `节点数改成1个，项目名改为 rc-app`",
     name="刘洋", **{"from": "2876543210@qq.com"}, when="2026-11-23 08:05:41 +0800",
     reply_to_mid="tencent_6A1F0D2B5C3E4F7A8B9C0D1E2F3A4B5C6D7E@qq.com",
     subject="回复：" + ZH_SUBJ.format("成都蓉城数智科技有限公司", "FineReport"),
     body=["不好意思，昨天的申请有改动：节点数改成1个，项目名改为 rc-app，其他不变。谢谢！", "", "发自我的iPhone",
           ("quote", ["在 2026年11月22日，22:15，刘洋 <2876543210@qq.com> 写道："],
            ["您好，注册信息如下：", ""]
            + kv(zh_rows("成都蓉城数智科技有限公司", "rc-mobile-report", "2026/08/08", "本地容器认证", "2",
                         "11.0.20", "2024.03.11"), "：") + ["", "谢谢"])])

mail(file="iphone-zh-03-missing-project.eml", client="iphone", lang="zh", decision="reject",
     codes=["missing_field_project_name"],
     shows="no 项目名称 line",
     name="李娜", **{"from": "li.na@yunfan-tech.example"}, when="2026-11-21 23:01:17 +0800",
     subject=ZH_SUBJ.format("杭州云帆信息技术股份有限公司", "FineReport"),
     body=["您好，麻烦帮忙注册：", ""]
     + kv(zh_rows("杭州云帆信息技术股份有限公司", None, "2026/07/01", "本地容器", "2", "11.0.20", "2024.03.11"), "：")
     + ["", "发自我的iPhone"])

# =========================================================================== additions: forward as attachment, empty note

_INNER = dict(file="inner-contoso-engineer", client="outlook", lang="en", internal=True,
              name="Wang Qiang", **{"from": "wang.qiang@contoso-mfg.example"}, when="2026-11-24 09:40:11 +0800",
              subject=EN_SUBJ.format("Contoso Manufacturing Company Limited", "FineReport"),
              body=["Dear FanRuan business team,", "", "Please register our FineReport project:", ""]
              + kv(en_rows("Contoso Manufacturing Company Limited", "contoso-wms", "2026/03/15",
                           "Local Container Authentication", "2", "11.0.20", "2024.03.11"))
              + ["", "Best regards,", "Wang Qiang", "Reporting engineer, Contoso Manufacturing Company Limited"])

mail(file="outlook-en-06-forward-as-attachment.eml", client="outlook", lang="en", decision="issue", codes=[],
     shows="the contract address forwards, as a message/rfc822 attachment, the request an engineer (not a contract "
           "address) drafted; the new text only asks to process it",
     name="Li Ming", **{"from": "it-admin@contoso-mfg.example"}, when="2026-11-24 10:05:37 +0800",
     attach_inner=_INNER,
     subject="FW: " + EN_SUBJ.format("Contoso Manufacturing Company Limited", "FineReport"),
     body=["Hello,", "", "Please process the attached registration request from our reporting engineer. "
           "I confirm it on behalf of Contoso IT.", "", "Regards,", ("sig", CONTOSO_SIG), "", CONTOSO_DISC])

mail(file="qq-zh-04-note-none.eml", client="qq", lang="zh", decision="issue", codes=[],
     shows="`特殊情况说明：无` (an empty note is no special requirement)",
     name="刘洋", **{"from": "2876543210@qq.com"}, when="2026-11-27 14:22:48 +0800",
     subject=ZH_SUBJ.format("成都蓉城数智科技有限公司", "FineReport"),
     body=["您好！", "我公司申请FineReport本地容器认证，信息如下：", ""]
     + kv(zh_rows("成都蓉城数智科技有限公司", "rc-ops-monitor", "2026/08/08", "本地容器认证", "2", "11.0.20",
                  "2024.03.11"), "：") + ["特殊情况说明：无", "", "谢谢！", ("sig", RC_SIG)])

# =========================================================================== additions: replies in each client's quoting style

mail(file="qq-zh-05-reply-change-project.eml", client="qq", lang="zh", decision="hold",
     codes=["fields_from_quoted_message"],
     shows="QQ Mail reply (`------------------ 原始邮件 ------------------` header block, no `>`): the new text "
           "changes the project name of the quoted request",
     name="刘洋", **{"from": "2876543210@qq.com"}, when="2026-11-14 21:02:10 +0800",
     reply_to_mid="tencent_997B8E3BBFE5A6B8A8E5FCC34124F1E4F30C@qq.com",
     subject="回复：" + ZH_SUBJ.format("成都蓉城数智科技有限公司", "FineReport"),
     body=["不好意思，项目名称写错了，应该是 rongcheng-bi，麻烦按这个生成，其他信息不变。", "", "刘洋",
           ("quote", ["------------------ 原始邮件 ------------------",
                      "发件人: \"刘洋\" <2876543210@qq.com>;", "发送时间: 2026年11月14日(星期六) 晚上8:16",
                      "收件人: \"license\" <license@vendor.example>;",
                      "主题: " + ZH_SUBJ.format("成都蓉城数智科技有限公司", "FineReport")],
            ["您好！", "我公司申请FineReport本地容器认证，信息如下：", ""]
            + kv(zh_rows("成都蓉城数智科技有限公司", "rongcheng-report", "2026/08/08", "本地容器认证", "2",
                         "11.0.20", "2024.03.11"), "：") + ["", "谢谢！"])])

_NF_REJECTION = ["您好，", "", "您的注册申请未通过：", "JAR包版本（2021-06-18）过旧，本地容器注册需要 2021-10-30 及以后的JAR包，请升级后重新申请。",
                 "", "我们读到的申请内容：", "公司名称：广州南方物流集团有限公司", "项目名称：nanfang-legacy",
                 "合同签订日期：2026/04/18", "注册方式：本地容器认证", "最大注册数量：1", "项目版本：11.0.3",
                 "JAR包版本：2021.06.18", "", "FanRuan 授权中心"]

mail(file="163-zh-04-reply-corrected-above-rejection.eml", client="163", lang="zh", decision="issue", codes=[],
     shows="a reply to the vendor's rejection with the whole corrected request (JAR upgraded) in the new text, "
           "the rejection and the old values quoted below",
     name="南方物流信息中心", **{"from": "nanfang_it@163.com"}, when="2026-11-16 09:18:27 +0800",
     reply_to_mid="fanlic-reply-7c1e@vendor.example",
     subject="Re:" + ZH_SUBJ.format("广州南方物流集团有限公司", "FineReport"),
     body=["您好，JAR包已升级，重新提交注册信息如下：", ""]
     + kv(zh_rows("广州南方物流集团有限公司", "nanfang-legacy", "2026/04/18", "本地容器认证", "1", "11.0.20",
                  "2024.03.11"), "：") + ["", "谢谢！", ("sig", NF_SIG),
                                        ("quote", ["在 2026-11-12 15:30:02，\"FanRuan 授权中心\" <license@vendor.example> 写道：",
                                                   ], _NF_REJECTION)])

_YF_REJECTION = ["您好，", "", "您的注册申请未通过：", "合同签订日期与合同不符。", "",
                 "我们读到的申请内容：", "公司名称：杭州云帆信息技术股份有限公司", "项目名称：yunfan-finance",
                 "合同签订日期：2026/07/10", "注册方式：本地容器认证", "最大注册数量：4", "项目版本：11.0.20",
                 "JAR包版本：2024.03.11", "", "FanRuan 授权中心"]

mail(file="foxmail-zh-05-reply-corrected-date.eml", client="foxmail", lang="zh", decision="issue", codes=[],
     shows="Foxmail reply (`发件人：/发送时间：/收件人：/主题：` block) to the vendor's rejection, the corrected "
           "request above it (signing date fixed)",
     name="李娜", **{"from": "li.na@yunfan-tech.example"}, when="2026-11-09 11:20:44 +0800",
     reply_to_mid="fanlic-reply-1a9f@vendor.example",
     subject="回复: " + ZH_SUBJ.format("杭州云帆信息技术股份有限公司", "FineReport"),
     body=["您好，签订日期写错了，更正后的注册信息如下：", ""]
     + kv(zh_rows("杭州云帆信息技术股份有限公司", "yunfan-finance", "2026/07/01", "本地容器认证", "4", "11.0.20",
                  "2024.03.11"), "：") + ["", "谢谢", ("sig", YF_SIG[:2]),
                                        ("quote", ["发件人： FanRuan 授权中心", "发送时间： 2026-11-09 10:01",
                                                   "收件人： li.na@yunfan-tech.example",
                                                   "主题： Re: " + ZH_SUBJ.format("杭州云帆信息技术股份有限公司",
                                                                                  "FineReport")], _YF_REJECTION)])

mail(file="outlook-zh-05-dotted-date-nodes-unit.eml", client="outlook", lang="zh", decision="issue", codes=[],
     shows="合同签订日期 `2026.06.06`, 最大注册数量 `3个节点`, 项目版本 `FineReport 11.0（11.0.20）`",
     name="赵磊", **{"from": "zhao.lei@huaxin-ht.example"}, when="2026-11-26 10:44:18 +0800",
     subject=ZH_SUBJ.format("北京华信恒通科技发展有限公司", "FineReport"),
     body=["FanRuan商务：", "", "您好！我司集群项目申请注册，信息如下：", ""]
     + kv(zh_rows("北京华信恒通科技发展有限公司", "hxht-cluster", "2026.06.06", "本地容器认证", "3个节点",
                  "FineReport 11.0（11.0.20）", "2024.01.29"), "：") + ["", "此致", "敬礼！", ("sig", HX_SIG), ""] + HX_DISC)

mail(file="gmail-en-04-dashed-date-nodes-word.eml", client="gmail", lang="en", decision="issue", codes=[],
     shows="`Contract signing date: 2026-02-02`, `Maximum number of registration: 2 nodes`",
     name="Gulf Coast Analytics", **{"from": "gulfcoast.analytics@gmail.com"}, when="2026-11-24 15:33:51 -0600",
     subject=EN_SUBJ.format("Gulf Coast Analytics LLC", "FineReport"),
     body=["Hello,", "", "Registration info for our new reporting cluster:", ""]
     + kv(en_rows("Gulf Coast Analytics LLC", "gca-cluster", "2026-02-02", "Local Container Authentication",
                  "2 nodes", "11.0.20", "2024.03.11")) + ["", "Best,", ("sig", GC_SIG)])
