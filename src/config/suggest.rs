//! "Did you mean …?": the closest known name to a mistyped one.

/// The candidate nearest to `word` by edit distance, if it is near enough to
/// be a typo (at most a third of the word's length, and at least 1 edit).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn a_typo_suggests_the_nearest_name_and_nonsense_suggests_nothing() {
        let ids = ["user-thread-messages", "realtime-auth", "threads"];
        assert_eq!(closest("realtime-uath", ids), Some("realtime-auth"));
        assert_eq!(closest("thraeds", ids), Some("threads"));
        assert_eq!(
            closest("backnd", ["route", "backend", "canary", "shadow"]),
            Some("backend")
        );
        assert_eq!(closest("zzz", ids), None);
    }
}
