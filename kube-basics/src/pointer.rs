//! JSON pointer tokens (RFC 6901): `~` is written `~0` and `/` is written `~1`.

/// One reference token, escaped: `app.kubernetes.io/name` → `app.kubernetes.io~1name`.
pub fn escape(token: &str) -> String {
    if !token.contains(['~', '/']) {
        return token.to_owned();
    }
    token.replace('~', "~0").replace('/', "~1")
}

/// One reference token, unescaped: `a~1b~0c` → `a/b~c` (`~1` first, so `~01` stays `~1`).
pub fn unescape(token: &str) -> String {
    if !token.contains('~') {
        return token.to_owned();
    }
    token.replace("~1", "/").replace("~0", "~")
}

/// Appends `/token` (escaped) to `pointer`.
pub fn push(pointer: &mut String, token: &str) {
    pointer.push('/');
    if token.contains(['~', '/']) {
        pointer.push_str(&escape(token));
    } else {
        pointer.push_str(token);
    }
}

/// The unescaped tokens of `pointer` (`""` has none; `"/"` has one empty token).
pub fn tokens(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer
        .strip_prefix('/')
        .into_iter()
        .flat_map(|rest| rest.split('/'))
        .map(unescape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_in_the_order_rfc_6901_requires() {
        assert_eq!(escape("a/b~c"), "a~1b~0c");
        assert_eq!(unescape("a~1b~0c"), "a/b~c");
        // `~01` is `~` followed by `1`, not `/`.
        assert_eq!(unescape("~01"), "~1");
        assert_eq!(escape("~1"), "~01");
        for s in ["", "plain", "/", "~", "~~//", "x~0y~1z"] {
            assert_eq!(unescape(&escape(s)), s);
        }
    }

    #[test]
    fn splits_pointers_into_tokens() {
        let t: Vec<String> = tokens("/metadata/labels/app.kubernetes.io~1name").collect();
        assert_eq!(t, ["metadata", "labels", "app.kubernetes.io/name"]);
        assert_eq!(tokens("").count(), 0);
        assert_eq!(tokens("/").collect::<Vec<_>>(), [""]);
        let mut p = String::new();
        push(&mut p, "spec");
        push(&mut p, "a/b");
        assert_eq!(p, "/spec/a~1b");
    }
}
