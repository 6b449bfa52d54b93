//! Statements with many bind parameters: a batch's lookups and multi-row
//! INSERTs, cut into chunks both backends accept.

/// Bind parameters per statement, under SQLite's and PostgreSQL's limits.
pub(super) const CHUNK: usize = 500;

/// `n` bind parameters numbered from `first`: `$2, $3, $4`.
pub(super) fn params(first: usize, n: usize) -> String {
    let params: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    params.join(", ")
}

/// `sql` followed by `rows` tuples of `columns` parameters: ` ($1, $2), ($3, $4)`.
pub(super) fn values(sql: &str, rows: usize, columns: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|r| format!("({})", params(r * columns + 1, columns)))
        .collect();
    format!("{sql} {}", tuples.join(", "))
}
