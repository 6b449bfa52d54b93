//! Statements with many bind parameters: a batch's lookups and multi-row
//! INSERTs, cut into chunks both backends accept.

use super::NUMBERED_PARAMS;

/// Bind parameters per statement, under SQLite's and PostgreSQL's limits.
pub(super) const CHUNK: usize = 500;

/// `n` bind parameters numbered from `first`: `$2, $3, $4`.
pub(super) fn params(first: usize, n: usize) -> String {
    let params: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    params.join(", ")
}

/// `sql` followed by `rows` tuples of `columns` parameters: ` ($1, $2), ($3, $4)`,
/// or ` (?, ?), (?, ?)` where the backend prefers them (`NUMBERED_PARAMS`).
/// `sql` itself must have no parameters.
pub(super) fn values(sql: &str, rows: usize, columns: usize) -> String {
    let anonymous = vec!["?"; columns].join(", ");
    let tuples: Vec<String> = (0..rows)
        .map(|r| match NUMBERED_PARAMS {
            true => format!("({})", params(r * columns + 1, columns)),
            false => format!("({anonymous})"),
        })
        .collect();
    format!("{sql} {}", tuples.join(", "))
}

/// Cuts `items` into chunks of `max`, then the rest into falling powers of
/// two: a batch of any size uses one of a few statement shapes, which the
/// connection keeps prepared, rather than a new statement that SQLite must
/// parse and plan for every batch.
pub(super) fn shaped_chunks<T>(items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = if rest.len() >= max {
            max
        } else {
            1 << rest.len().ilog2()
        };
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shaped_chunks_cover_everything_in_few_sizes() {
        let items: Vec<u32> = (0..150).collect();
        let sizes: Vec<usize> = shaped_chunks(&items, 62).map(<[u32]>::len).collect();
        assert_eq!(sizes, [62, 62, 16, 8, 2]);
        let back: Vec<u32> = shaped_chunks(&items, 62).flatten().copied().collect();
        assert_eq!(back, items);
        assert_eq!(shaped_chunks(&items[..1], 62).count(), 1);
        assert_eq!(shaped_chunks(&items[..0], 62).count(), 0);
    }
}
