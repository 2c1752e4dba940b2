//! The schema: one set of migrations (`migrations/NNNN_name.sql`) rendered for each
//! database by replacing the [`Dialect`] tokens `{id}` and `{seq}`.
//!
//! Databases created before the two backends shared one schema applied version 1 from
//! `migrations/sqlite/0001_init.sql` or `migrations/postgres/0001_init.sql`, and sqlx
//! refuses to start when a recorded checksum differs from the migration's. Version 1
//! therefore carries the checksum of that database's former file
//! ([`Dialect::legacy_init`]): it creates the same tables, columns, keys and constraints.
//! The one difference, SQLite names kept unique by `COLLATE NOCASE` columns rather than
//! `lower()` indexes, is closed by version 2.

use std::borrow::Cow;
use std::sync::LazyLock;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

use super::dialect::{self, Dialect};

/// The migrations, in order: (version, description, template).
pub(super) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (
        2,
        "lower name indexes",
        include_str!("../../migrations/0002_lower_name_indexes.sql"),
    ),
    (
        3,
        "commit claims",
        include_str!("../../migrations/0003_commit_claims.sql"),
    ),
    (
        4,
        "operator accounts",
        include_str!("../../migrations/0004_operator_accounts.sql"),
    ),
    (
        5,
        "scan results",
        include_str!("../../migrations/0005_scan_results.sql"),
    ),
    (
        6,
        "revision claims",
        include_str!("../../migrations/0006_revision_claims.sql"),
    ),
    (
        8,
        "refs kinds",
        include_str!("../../migrations/0008_refs_kinds.sql"),
    ),
    (
        11,
        "incident response",
        include_str!("../../migrations/0011_incident_response.sql"),
    ),
    (
        12,
        "query indexes",
        include_str!("../../migrations/0012_query_indexes.sql"),
    ),
    (
        13,
        "org watch",
        include_str!("../../migrations/0013_org_watch.sql"),
    ),
    (
        14,
        "query plans",
        include_str!("../../migrations/0014_query_plans.sql"),
    ),
];

/// The schema migrations for SQLite.
pub static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| migrator(&dialect::SQLITE));

/// The schema migrations for PostgreSQL.
pub static PG_MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| migrator(&dialect::POSTGRES));

/// `template` in dialect `d`.
pub(super) fn render(template: &str, d: &Dialect) -> String {
    template
        .replace("{id}", d.id_column)
        .replace("{seq}", d.seq_column)
}

fn migrator(d: &Dialect) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|&(version, description, template)| {
            let sql = AssertSqlSafe(render(template, d)).into_sql_str();
            let mut m = Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                sql,
                false,
            );
            if version == 1 {
                let legacy = hex::decode(d.legacy_init).expect("legacy_init is hex");
                m.checksum = Cow::Owned(legacy);
            }
            m
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_listed_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|(v, d, _)| format!("{v:04}_{}.sql", d.replace(' ', "_")))
            .collect();
        assert_eq!(files, listed);
    }

    #[test]
    fn rendering_replaces_every_token() {
        for d in [&dialect::SQLITE, &dialect::POSTGRES] {
            for (_, _, t) in MIGRATIONS {
                let sql = render(t, d);
                assert!(!sql.contains('{') && !sql.contains('}'), "{sql}");
            }
        }
    }

    #[test]
    fn version_1_keeps_the_legacy_checksums() {
        for m in [&*MIGRATOR, &*PG_MIGRATOR] {
            let v: Vec<_> = m.iter().map(|m| (m.version, m.checksum.len())).collect();
            assert_eq!(
                v,
                [
                    (1, 48),
                    (2, 48),
                    (3, 48),
                    (4, 48),
                    (5, 48),
                    (6, 48),
                    (8, 48),
                    (11, 48),
                    (12, 48),
                    (13, 48),
                    (14, 48)
                ]
            );
        }
        let first = |m: &Migrator| m.iter().next().unwrap().checksum.to_vec();
        assert_ne!(first(&MIGRATOR), first(&PG_MIGRATOR));
    }
}
