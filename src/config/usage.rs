//! The help text, generated from the setting table so it lists every flag.

use std::fmt::Write;

use super::setting::{DEPRECATED, FLAGS};

/// Usage text printed for `-h`/`-help` and before a configuration error.
pub fn usage() -> String {
    let mut text = String::from(
        "Usage: etcd [flags]\n\
         \x20      etcd -restore FILE [-name NAME] [-data-dir NEWDIR] [address flags]\n\
         \x20      etcd -backup-data-dir DIR -backup-file FILE\n\
         \x20      etcd -inspect DIR [-json]\n\
         \n\
         Starts one etcd member (with -restore: the first member of a new cluster,\n\
         from a backup taken with GET /v2/admin/backup on a peer port or with\n\
         -backup-data-dir); or, with -backup-data-dir or -inspect, reads a stopped\n\
         member's data dir without changing it and exits.\n\
         \n\
         Flags take one or two dashes and their value as `-flag value` or\n\
         `-flag=value`; a boolean flag is switched on by its bare name and off with\n\
         `-flag=false`. Settings are taken, strongest first, from the command line,\n\
         ETCD_* environment variables, the -config file, /etc/etcd/etcd.conf, and\n\
         the defaults shown.\n\
         \n\
         Flags:\n",
    );
    for spec in FLAGS {
        let hint = match spec.hint {
            "" => String::new(),
            hint if hint.starts_with('[') => hint.to_owned(),
            hint => format!(" {hint}"),
        };
        let mut names = format!("-{}{hint}", spec.name);
        for other in spec.also {
            let _ = write!(names, ", -{other}");
        }
        let _ = writeln!(text, "  {names}");
        let _ = writeln!(text, "        {}", spec.meaning);
        let mut facts = Vec::new();
        if !spec.default.is_empty() {
            facts.push(format!("default: {}", spec.default));
        }
        if !spec.env.is_empty() {
            facts.push(format!("env: {}", spec.env.join(" or ")));
        }
        if !facts.is_empty() {
            let _ = writeln!(text, "        ({})", facts.join("; "));
        }
    }
    text.push_str("\nOld spellings, still accepted with a warning:\n");
    for old in DEPRECATED {
        let _ = writeln!(text, "  -{} means -{}", old.old, old.new);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_lists_every_flag_with_its_default() {
        let text = usage();
        for spec in FLAGS {
            assert!(
                text.contains(&format!("  -{}", spec.name)),
                "-{}",
                spec.name
            );
            if !spec.default.is_empty() {
                assert!(
                    text.contains(&format!("default: {}", spec.default)),
                    "-{}",
                    spec.name
                );
            }
        }
        for old in DEPRECATED {
            assert!(text.contains(&format!("-{} means -{}", old.old, old.new)));
        }
    }
}
