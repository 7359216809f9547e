package com.fanruan.fanlic.verifier;

/** The language of the registration page's texts. */
public enum Lang {
    /** English. */
    EN,
    /** Simplified Chinese, the products' default. */
    ZH_CN
}
