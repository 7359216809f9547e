//! The console's two languages. Every text is written in both, where it is
//! used: `lang.t("Approve", "批准")`.

/// A language of the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese (简体中文).
    Zh,
}

/// The cookie the language switch sets.
pub(crate) const COOKIE: &str = "fanlic_lang";

impl Lang {
    /// The text in this language.
    pub const fn t(self, en: &'static str, zh: &'static str) -> &'static str {
        match self {
            Self::En => en,
            Self::Zh => zh,
        }
    }

    /// The `lang` attribute and the cookie's value.
    pub const fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Zh => "zh-CN",
        }
    }

    /// The other language's code and name, for the switch.
    pub const fn other(self) -> Self {
        match self {
            Self::En => Self::Zh,
            Self::Zh => Self::En,
        }
    }

    /// The language's own name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Zh => "简体中文",
        }
    }

    /// From a cookie's value or a language tag (`zh`, `zh-CN`, `en-US`, ...).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        if s == "zh" || s.starts_with("zh-") || s.starts_with("zh_") {
            Some(Self::Zh)
        } else if s == "en" || s.starts_with("en-") || s.starts_with("en_") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The language to use: the switch's cookie, else the browser's
    /// preference (`Accept-Language`, by weight), else Chinese (the staff's
    /// first language).
    pub fn choose(cookie: Option<&str>, accept_language: Option<&str>) -> Self {
        if let Some(l) = cookie.and_then(Self::parse) {
            return l;
        }
        let mut best: Option<(u32, Self)> = None;
        for item in accept_language.unwrap_or_default().split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            // Weights have at most three decimals (RFC 9110 §12.4.2).
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "q is in [0, 1]")]
            let w = (q.clamp(0.0, 1.0) * 1000.0) as u32;
            if let Some(l) = Self::parse(tag)
                && w > 0
                && best.is_none_or(|(bw, _)| w > bw)
            {
                best = Some((w, l));
            }
        }
        best.map_or(Self::Zh, |(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn the_cookie_wins_then_the_heaviest_known_language() {
        assert_eq!(Lang::choose(Some("en"), Some("zh-CN")), Lang::En);
        assert_eq!(Lang::choose(None, Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::choose(None, Some("fr;q=1, en;q=0.5, zh-CN;q=0.8")), Lang::Zh);
        assert_eq!(Lang::choose(Some("xx"), Some("en;q=0")), Lang::Zh);
        assert_eq!(Lang::choose(None, None), Lang::Zh);
    }
}
