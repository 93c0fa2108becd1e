//! The exclusion list (`excluded.txt`): one case name (or a prefix ending in `*`) per line,
//! then its reason; `#` starts a comment. A case listed is skipped and reported with the
//! reason.

pub struct Exclusions {
    rules: Vec<(String, String)>,
}

const LIST: &str = include_str!("excluded.txt");

pub fn load() -> Result<Exclusions, String> {
    let mut rules = Vec::new();
    for (n, line) in LIST.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (pattern, reason) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("line {}: a case name and a reason expected", n + 1))?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(format!("line {}: {pattern} has no reason", n + 1));
        }
        rules.push((pattern.to_string(), reason.to_string()));
    }
    Ok(Exclusions { rules })
}

impl Exclusions {
    /// The reason `case` is excluded, if it is.
    pub fn reason(&self, case: &str) -> Option<&str> {
        self.rules.iter().find_map(|(p, r)| {
            let hit = match p.strip_suffix('*') {
                Some(prefix) => case.starts_with(prefix),
                None => case == p,
            };
            hit.then_some(r.as_str())
        })
    }
}
