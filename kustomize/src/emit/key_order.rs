//! Key order.

use super::*;

/// The entries of a mapping in go-yaml v2's key order (keys as the JSON round trip leaves them).
pub(super) fn sorted_entries(map: &Map<String, Value>) -> Vec<(Cow<'_, str>, &Value)> {
    // kustomize drops `<<` keys (YAML merge keys) whatever their value.
    let mut entries: Vec<(Cow<'_, str>, &Value)> = map
        .iter()
        .filter(|(k, _)| k.as_str() != "<<")
        .map(|(k, v)| (through_json(k), v))
        .collect();
    if entries.iter().any(|(k, _)| matches!(k, Cow::Owned(_))) {
        // Two keys the round trip makes equal: the JSON text lists keys in byte order and the
        // YAML decoder keeps the last one, so the byte-greatest original key wins.
        let originals: Vec<&String> = map.keys().filter(|k| k.as_str() != "<<").collect();
        let mut winner: std::collections::HashMap<Cow<'_, str>, usize> = Default::default();
        for (i, (k, _)) in entries.iter().enumerate() {
            let slot = winner.entry(k.clone()).or_insert(i);
            if originals[i] > originals[*slot] {
                *slot = i;
            }
        }
        let mut index = 0;
        entries.retain(|(k, _)| {
            let keep = winner.get(k) == Some(&index);
            index += 1;
            keep
        });
    }
    sort_by_less(&mut entries, &|a, b| key_less(&a.0, &b.0));
    entries
}

/// Sorts with a "less than" predicate without ever panicking, even if the predicate is not a
/// total order: insertion sort for short lists (what Go's `sort.Sort` does below 13 items),
/// a merge sort otherwise.
pub(super) fn sort_by_less<T>(items: &mut Vec<T>, less: &dyn Fn(&T, &T) -> bool) {
    if items.len() <= 12 {
        for i in 1..items.len() {
            let mut j = i;
            while j > 0 && less(&items[j], &items[j - 1]) {
                items.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let mid = items.len() / 2;
    let mut right = items.split_off(mid);
    sort_by_less(items, less);
    sort_by_less(&mut right, less);
    let left = std::mem::take(items);
    items.reserve(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_right = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => less(r, l),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right {
            right.next()
        } else {
            left.next()
        };
        items.extend(next);
    }
}

/// go-yaml v2's order of string keys: compared character by character; letters sort after
/// everything else; where digits meet, the numbers they spell are compared.
pub(super) fn key_less(a: &str, b: &str) -> bool {
    key_cmp(a, b) == Ordering::Less
}

pub(super) fn key_cmp(a: &str, b: &str) -> Ordering {
    // Whether the run of digits just before the current position (common to both keys) holds a
    // non-zero digit: go-yaml then compares the numbers as if that run continued.
    let mut run_nonzero = false;
    let (mut ai, mut bi) = (a.char_indices(), b.char_indices());
    loop {
        let ((ia, ca), (ib, cb)) = match (ai.next(), bi.next()) {
            (Some(x), Some(y)) => (x, y),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (None, None) => return Ordering::Equal,
        };
        if ca == cb {
            if ca.is_ascii_digit() {
                run_nonzero |= ca != '0';
            } else {
                run_nonzero = false;
            }
            continue;
        }
        let (al, bl) = (ca.is_alphabetic(), cb.is_alphabetic());
        if al && bl {
            return ca.cmp(&cb);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let start = if (ca == '0' || cb == '0') && run_nonzero {
            1
        } else {
            0
        };
        let (an, alen) = digit_run(&a[ia..], start);
        let (bn, blen) = digit_run(&b[ib..], start);
        if an != bn {
            return an.cmp(&bn);
        }
        if alen != blen {
            return alen.cmp(&blen);
        }
        return ca.cmp(&cb);
    }
}

/// The number spelled by the ASCII digits at the start of `s` (appended to `start`, wrapping
/// like Go's int64) and how many digits there are.
pub(super) fn digit_run(s: &str, start: i64) -> (i64, usize) {
    let digits = s.bytes().take_while(u8::is_ascii_digit);
    let mut value = start;
    let mut count = 0;
    for d in digits {
        value = value.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
        count += 1;
    }
    (value, count)
}
