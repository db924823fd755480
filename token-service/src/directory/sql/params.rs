//! Named parameters (`:email`) in the platform's statements, bound as each server's
//! placeholders: `$1, $2` on PostgreSQL (a name used twice is one placeholder), `?` on MySQL
//! (one per use, bound in the order they appear). Quoted strings, quoted identifiers,
//! comments and PostgreSQL's `::type` casts are left alone.

/// Which server's placeholders to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placeholders {
    /// `$1`, `$2`, ...
    Postgres,
    /// `?`
    MySql,
}

/// A statement as the server reads it, and which named parameter each bind is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rewritten {
    /// The statement with placeholders.
    pub sql: String,
    /// The parameter bound at each position.
    pub binds: Vec<&'static str>,
}

/// Rewrites `sql`, whose named parameters must all be among `known` and use every one of them.
pub(crate) fn rewrite(
    sql: &str,
    style: Placeholders,
    known: &[&'static str],
) -> Result<Rewritten, String> {
    let mut out = String::with_capacity(sql.len());
    let mut binds: Vec<&'static str> = Vec::new();
    let mut chars = sql.char_indices().peekable();
    while let Some((at, character)) = chars.next() {
        match character {
            '\'' | '"' | '`' => {
                out.push(character);
                // MySQL reads a backslash in a string as an escape; PostgreSQL does not.
                let escapes = style == Placeholders::MySql && character != '`';
                let mut closed = false;
                while let Some((_, inner)) = chars.next() {
                    out.push(inner);
                    if escapes && inner == '\\' {
                        if let Some((_, escaped)) = chars.next() {
                            out.push(escaped);
                        }
                    } else if inner == character {
                        // A doubled quote is a quote inside the string.
                        if chars.peek().is_some_and(|(_, next)| *next == character) {
                            if let Some((_, next)) = chars.next() {
                                out.push(next);
                            }
                        } else {
                            closed = true;
                            break;
                        }
                    }
                }
                if !closed {
                    return Err(format!("a {character} quote is not closed"));
                }
            }
            '-' if sql[at..].starts_with("--") => {
                out.push('-');
                for (_, inner) in chars.by_ref() {
                    out.push(inner);
                    if inner == '\n' {
                        break;
                    }
                }
            }
            '/' if sql[at..].starts_with("/*") => {
                out.push('/');
                let end = sql[at + 2..]
                    .find("*/")
                    .ok_or_else(|| "a /* comment is not closed".to_owned())?;
                let comment_end = at + 2 + end + 2;
                out.push_str(&sql[at + 1..comment_end]);
                while chars.peek().is_some_and(|(next, _)| *next < comment_end) {
                    chars.next();
                }
            }
            ':' if chars.peek().is_some_and(|(_, next)| *next == ':') => {
                // A `::type` cast.
                out.push_str("::");
                chars.next();
            }
            ':' if chars
                .peek()
                .is_some_and(|(_, next)| next.is_ascii_alphabetic() || *next == '_') =>
            {
                let start = at + 1;
                let mut end = start;
                while let Some((index, next)) = chars.peek().copied() {
                    if next.is_ascii_alphanumeric() || next == '_' {
                        end = index + next.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let name = &sql[start..end];
                let known_name = known
                    .iter()
                    .copied()
                    .find(|candidate| *candidate == name)
                    .ok_or_else(|| {
                        format!(
                            "unknown parameter :{name} (this statement takes {})",
                            list(known)
                        )
                    })?;
                match style {
                    Placeholders::MySql => {
                        binds.push(known_name);
                        out.push('?');
                    }
                    Placeholders::Postgres => {
                        let index = match binds.iter().position(|bound| *bound == known_name) {
                            Some(index) => index,
                            None => {
                                binds.push(known_name);
                                binds.len() - 1
                            }
                        };
                        out.push_str(&format!("${}", index + 1));
                    }
                }
            }
            other => out.push(other),
        }
    }
    if let Some(missing) = known.iter().find(|name| !binds.contains(name)) {
        return Err(format!("the statement does not use :{missing}"));
    }
    Ok(Rewritten { sql: out, binds })
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!(":{name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPDATE: &[&str] = &["account_id", "password_hash"];

    fn postgres(sql: &str) -> Rewritten {
        rewrite(sql, Placeholders::Postgres, UPDATE).unwrap()
    }

    fn mysql(sql: &str) -> Rewritten {
        rewrite(sql, Placeholders::MySql, UPDATE).unwrap()
    }

    #[test]
    fn names_become_each_servers_placeholders_in_the_order_they_appear() {
        let sql = "UPDATE users SET pw = :password_hash WHERE id::text = :account_id";
        let pg = postgres(sql);
        assert_eq!(pg.sql, "UPDATE users SET pw = $1 WHERE id::text = $2");
        assert_eq!(pg.binds, ["password_hash", "account_id"]);
        let my = mysql("UPDATE users SET pw = :password_hash WHERE id = :account_id");
        assert_eq!(my.sql, "UPDATE users SET pw = ? WHERE id = ?");
        assert_eq!(my.binds, ["password_hash", "account_id"]);
    }

    #[test]
    fn a_name_used_twice_is_one_placeholder_on_postgres_and_two_binds_on_mysql() {
        let sql = "UPDATE u SET a = :password_hash, b = :password_hash WHERE id = :account_id";
        let pg = postgres(sql);
        assert_eq!(pg.sql, "UPDATE u SET a = $1, b = $1 WHERE id = $2");
        assert_eq!(pg.binds, ["password_hash", "account_id"]);
        let my = mysql(sql);
        assert_eq!(my.binds, ["password_hash", "password_hash", "account_id"]);
    }

    #[test]
    fn quoted_text_comments_and_casts_are_left_alone() {
        let sql = "UPDATE u SET note = 'it''s :not_a_param', \"col:x\" = 1 -- :nor_this\n\
                   , t = now()::timestamptz /* :nor :this */ WHERE id = :account_id AND pw <> :password_hash";
        let pg = postgres(sql);
        assert!(pg.sql.contains("'it''s :not_a_param'"), "{}", pg.sql);
        assert!(pg.sql.contains("\"col:x\""), "{}", pg.sql);
        assert!(pg.sql.contains("-- :nor_this\n"), "{}", pg.sql);
        assert!(pg.sql.contains("now()::timestamptz"), "{}", pg.sql);
        assert!(pg.sql.contains("/* :nor :this */"), "{}", pg.sql);
        assert!(pg.sql.ends_with("WHERE id = $1 AND pw <> $2"), "{}", pg.sql);
        let my = mysql(
            "UPDATE u SET n = 'a\\':x', `b:y` = 2 WHERE id = :account_id AND p = :password_hash",
        );
        assert_eq!(
            my.sql,
            "UPDATE u SET n = 'a\\':x', `b:y` = 2 WHERE id = ? AND p = ?"
        );
    }

    #[test]
    fn unknown_missing_and_unclosed_are_refused_saying_what() {
        let unknown = rewrite("SELECT :mail", Placeholders::Postgres, &["email"]).unwrap_err();
        assert!(
            unknown.contains(":mail") && unknown.contains(":email"),
            "{unknown}"
        );
        let missing = rewrite("SELECT 1", Placeholders::MySql, &["email"]).unwrap_err();
        assert!(missing.contains(":email"), "{missing}");
        let unclosed = rewrite("SELECT ':email", Placeholders::MySql, &["email"]).unwrap_err();
        assert!(unclosed.contains("not closed"), "{unclosed}");
        let comment = rewrite("SELECT :email /* x", Placeholders::MySql, &["email"]).unwrap_err();
        assert!(comment.contains("not closed"), "{comment}");
    }
}
