//! A strict reader of the Stata commands `labels.do` uses, and of nothing
//! else: Stata is proprietary and cannot run in CI, so this stands in for it.
//!
//! It follows Stata's rules where they matter for labels: macros are
//! expanded before a command is read (`\\`, `\$` and ``\` `` escape);
//! compound quotes `` `"..."' `` nest; `label define` without `add` makes a
//! new label and with `add` extends one, never overwriting a value; `encode`
//! with `noextend` stops on a code its label lacks. It refuses anything it
//! does not know, with the line it stopped at, and stops where Stata would
//! carry on with a mistake: an unescaped `$` or backtick (Stata would put an
//! empty macro in its place), a value label dropped while a variable uses it,
//! a variable label over Stata's 80 characters (Stata would cut it).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Text(Vec<String>),
    Number(Vec<Option<f64>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    pub values: Values,
    pub label: Option<String>,
    pub value_label: Option<String>,
}

/// Data in memory: variables, and the value labels defined with them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub variables: Vec<Variable>,
    pub value_labels: BTreeMap<String, BTreeMap<i64, String>>,
}

impl Dataset {
    pub fn variable(&self, name: &str) -> &Variable {
        self.variables
            .iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("no variable {name}"))
    }

    pub fn rows(&self) -> usize {
        self.variables.first().map_or(0, |v| match &v.values {
            Values::Text(t) => t.len(),
            Values::Number(n) => n.len(),
        })
    }

    pub fn text(&self, name: &str, row: usize) -> &str {
        match &self.variable(name).values {
            Values::Text(t) => &t[row],
            Values::Number(_) => panic!("{name} is numeric"),
        }
    }

    pub fn number(&self, name: &str, row: usize) -> Option<f64> {
        match &self.variable(name).values {
            Values::Number(n) => n[row],
            Values::Text(_) => panic!("{name} is a string"),
        }
    }

    /// The value label text of a labelled numeric variable at `row`.
    pub fn labelled(&self, name: &str, row: usize) -> Option<&str> {
        let var = self.variable(name);
        let set = self.value_labels.get(var.value_label.as_deref()?)?;
        let value = self.number(name, row)?;
        set.get(&(value as i64)).map(String::as_str)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.variables.iter().position(|v| v.name == name)
    }
}

pub struct Stata {
    dir: PathBuf,
    pub data: Dataset,
    /// Data sets saved with `save`, by file name.
    pub saved: BTreeMap<String, Dataset>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Punct(char),
}

/// Runs a do-file in `dir`. Panics, naming the line, on anything it refuses.
pub fn run(dir: &Path, do_file: &str) -> Stata {
    let mut stata = Stata {
        dir: dir.to_owned(),
        data: Dataset::default(),
        saved: BTreeMap::new(),
    };
    for (n, line) in do_file.lines().enumerate() {
        let line_no = n + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('*') {
            continue;
        }
        let expanded =
            expand_macros(line).unwrap_or_else(|e| panic!("labels.do:{line_no}: {e}\n{line}"));
        let tokens =
            tokenise(&expanded).unwrap_or_else(|e| panic!("labels.do:{line_no}: {e}\n{line}"));
        stata
            .command(&tokens)
            .unwrap_or_else(|e| panic!("labels.do:{line_no}: {e}\n{line}"));
    }
    stata
}

/// Stata's macro pass: `\\`, `\$` and ``\` `` become the character escaped;
/// any other backslash stays. A `$` or a backtick not opening a compound
/// quote would start a macro: refused.
fn expand_macros(line: &str) -> Result<String, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\\' if matches!(next, Some('\\' | '$' | '`')) => {
                out.push(next.unwrap_or_default());
                i += 2;
                continue;
            }
            '$' => return Err(format!("unescaped $ at column {}", i + 1)),
            '`' if next != Some('"') => {
                return Err(format!("unescaped backtick at column {}", i + 1));
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

fn tokenise(line: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '`' && chars.get(i + 1) == Some(&'"') {
            let mut depth = 1;
            let mut text = String::new();
            i += 2;
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (None, _) => return Err("unterminated compound quote".into()),
                    (Some('`'), Some('"')) => {
                        depth += 1;
                        text.push_str("`\"");
                        i += 2;
                    }
                    (Some('"'), Some('\'')) => {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                        text.push_str("\"'");
                    }
                    (Some(ch), _) => {
                        text.push(*ch);
                        i += 1;
                    }
                }
            }
            tokens.push(Token::Text(text));
        } else if c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|ch| *ch == '"')
                .ok_or("unterminated string")?;
            tokens.push(Token::Text(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if matches!(c, ',' | '(' | ')' | '=' | '+') {
            tokens.push(Token::Punct(c));
            i += 1;
        } else {
            let start = i;
            while i < chars.len()
                && !chars[i].is_whitespace()
                && !matches!(chars[i], ',' | '(' | ')' | '=' | '+' | '"' | '`')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.contains("//") {
                return Err(format!(
                    "a comment or continuation ({word}) is not read here"
                ));
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

fn valid_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a Stata name"))
    }
}

/// A cursor over a command's tokens.
struct Args<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl<'a> Args<'a> {
    fn word(&mut self) -> Result<&'a str, String> {
        match self.tokens.get(self.at) {
            Some(Token::Word(w)) => {
                self.at += 1;
                Ok(w)
            }
            other => Err(format!("expected a word, found {other:?}")),
        }
    }

    fn keyword(&mut self, expected: &str) -> Result<(), String> {
        let w = self.word()?;
        if w == expected {
            Ok(())
        } else {
            Err(format!("expected {expected}, found {w}"))
        }
    }

    fn text(&mut self) -> Result<&'a str, String> {
        match self.tokens.get(self.at) {
            Some(Token::Text(t)) => {
                self.at += 1;
                Ok(t)
            }
            other => Err(format!("expected a string, found {other:?}")),
        }
    }

    fn punct(&mut self, expected: char) -> Result<(), String> {
        match self.tokens.get(self.at) {
            Some(Token::Punct(p)) if *p == expected => {
                self.at += 1;
                Ok(())
            }
            other => Err(format!("expected {expected:?}, found {other:?}")),
        }
    }

    fn peek_punct(&self, expected: char) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Punct(p)) if *p == expected)
    }

    fn done(&self) -> Result<(), String> {
        match self.tokens.get(self.at) {
            None => Ok(()),
            Some(t) => Err(format!("unexpected {t:?}")),
        }
    }

    /// Words up to a closing parenthesis (after an opening one).
    fn list(&mut self) -> Result<Vec<&'a str>, String> {
        self.punct('(')?;
        let mut words = Vec::new();
        while !self.peek_punct(')') {
            words.push(self.word()?);
        }
        self.punct(')')?;
        Ok(words)
    }

    /// Options after a comma: `name` or `name(argument)`.
    fn options(&mut self) -> Result<Vec<(String, Option<String>)>, String> {
        let mut options = Vec::new();
        if self.at == self.tokens.len() {
            return Ok(options);
        }
        self.punct(',')?;
        while self.at < self.tokens.len() {
            let name = self.word()?.to_owned();
            let arg = if self.peek_punct('(') {
                self.punct('(')?;
                let arg = match self.tokens.get(self.at) {
                    Some(Token::Word(w) | Token::Text(w)) => w.clone(),
                    other => return Err(format!("bad option argument {other:?}")),
                };
                self.at += 1;
                self.punct(')')?;
                Some(arg)
            } else {
                None
            };
            options.push((name, arg));
        }
        Ok(options)
    }
}

impl Stata {
    fn command(&mut self, tokens: &[Token]) -> Result<(), String> {
        let mut args = Args { tokens, at: 0 };
        match args.word()? {
            "version" => {
                let v = args.word()?;
                v.parse::<f64>().map_err(|_| format!("bad version {v}"))?;
                args.done()
            }
            "import" => self.import(&mut args),
            "rename" => self.rename(&mut args),
            "destring" => self.destring(&mut args),
            "label" => self.label(&mut args),
            "encode" => self.encode(&mut args),
            "generate" => self.generate(&mut args),
            "drop" => {
                let name = args.word()?;
                args.done()?;
                let at = self
                    .data
                    .position(name)
                    .ok_or(format!("variable {name} not found"))?;
                self.data.variables.remove(at);
                Ok(())
            }
            "save" => {
                let file = args.text()?.to_owned();
                let options = args.options()?;
                if options != [("replace".to_owned(), None)] {
                    return Err(format!("save takes only replace, not {options:?}"));
                }
                self.saved.insert(file, self.data.clone());
                Ok(())
            }
            other => Err(format!("command {other} is not one labels.do uses")),
        }
    }

    fn import(&mut self, args: &mut Args<'_>) -> Result<(), String> {
        args.keyword("delimited")?;
        args.keyword("using")?;
        let file = args.text()?;
        let mut options = args.options()?;
        options.sort();
        let mut expected: Vec<(String, Option<String>)> = [
            ("varnames", Some("nonames")),
            ("rowrange", Some("2")),
            ("encoding", Some("utf-8")),
            ("bindquote", Some("strict")),
            ("stringcols", Some("_all")),
            ("clear", None),
        ]
        .iter()
        .map(|(n, a)| ((*n).to_owned(), a.map(str::to_owned)))
        .collect();
        expected.sort();
        if options != expected {
            return Err(format!("import delimited with options {options:?}"));
        }
        let bytes = std::fs::read(self.dir.join(file)).map_err(|e| format!("{file}: {e}"))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&bytes[..]);
        let mut rows: Vec<Vec<String>> = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| format!("{file}: {e}"))?;
            rows.push(record.iter().map(str::to_owned).collect());
        }
        let width = rows.first().map_or(0, Vec::len);
        let rows = &rows[1.min(rows.len())..];
        self.data = Dataset {
            variables: (0..width)
                .map(|i| Variable {
                    name: format!("v{}", i + 1),
                    values: Values::Text(rows.iter().map(|r| r[i].clone()).collect()),
                    label: None,
                    value_label: None,
                })
                .collect(),
            value_labels: BTreeMap::new(),
        };
        Ok(())
    }

    fn rename(&mut self, args: &mut Args<'_>) -> Result<(), String> {
        let old = args.list()?;
        let new = args.list()?;
        args.done()?;
        if old.len() != new.len() {
            return Err("rename lists differ in length".into());
        }
        let positions: Vec<usize> = old
            .iter()
            .map(|o| {
                self.data
                    .position(o)
                    .ok_or(format!("variable {o} not found"))
            })
            .collect::<Result<_, _>>()?;
        for (at, name) in positions.into_iter().zip(new) {
            valid_name(name)?;
            self.data.variables[at].name = name.to_owned();
        }
        let mut names: Vec<&str> = self
            .data
            .variables
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err("rename leaves two variables with one name".into());
        }
        Ok(())
    }

    fn destring(&mut self, args: &mut Args<'_>) -> Result<(), String> {
        let mut names = Vec::new();
        while !args.peek_punct(',') {
            names.push(args.word()?);
        }
        if args.options()? != [("replace".to_owned(), None)] {
            return Err("destring takes only replace".into());
        }
        for name in names {
            let at = self
                .data
                .position(name)
                .ok_or(format!("variable {name} not found"))?;
            let Values::Text(text) = &self.data.variables[at].values else {
                return Err(format!("{name} is already numeric"));
            };
            let numbers = text
                .iter()
                .map(|t| {
                    if t.is_empty() {
                        Ok(None)
                    } else {
                        t.parse::<f64>()
                            .map(Some)
                            .map_err(|_| format!("{name} holds the non-number {t:?}"))
                    }
                })
                .collect::<Result<_, _>>()?;
            self.data.variables[at].values = Values::Number(numbers);
        }
        Ok(())
    }

    fn label(&mut self, args: &mut Args<'_>) -> Result<(), String> {
        match args.word()? {
            "define" => {
                let name = args.word()?;
                valid_name(name)?;
                let value = args.word()?;
                let value: i64 = value
                    .parse()
                    .map_err(|_| format!("value label {value} is not a whole number"))?;
                if value.abs() > 2_147_483_647 {
                    return Err(format!("value {value} is out of range"));
                }
                let text = args.text()?;
                if text.len() > 32_000 {
                    return Err("value label text longer than 32,000 bytes".into());
                }
                let options = args.options()?;
                let add = match options.as_slice() {
                    [] => false,
                    [(o, None)] if o == "add" => true,
                    other => return Err(format!("label define options {other:?}")),
                };
                let exists = self.data.value_labels.contains_key(name);
                if add != exists {
                    return Err(format!(
                        "label {name} {}",
                        if exists {
                            "already defined"
                        } else {
                            "not defined"
                        }
                    ));
                }
                let set = self.data.value_labels.entry(name.to_owned()).or_default();
                if set.insert(value, text.to_owned()).is_some() {
                    return Err(format!("label {name} already has value {value}"));
                }
                Ok(())
            }
            "values" => {
                let var = args.word()?;
                let set = args.word()?;
                args.done()?;
                if !self.data.value_labels.contains_key(set) {
                    return Err(format!("label {set} not defined"));
                }
                let at = self
                    .data
                    .position(var)
                    .ok_or(format!("variable {var} not found"))?;
                let v = &mut self.data.variables[at];
                if !matches!(v.values, Values::Number(_)) {
                    return Err(format!("{var} is a string; value labels need numbers"));
                }
                v.value_label = Some(set.to_owned());
                Ok(())
            }
            "drop" => {
                let set = args.word()?;
                args.done()?;
                if self
                    .data
                    .variables
                    .iter()
                    .any(|v| v.value_label.as_deref() == Some(set))
                {
                    return Err(format!("label {set} is still attached to a variable"));
                }
                self.data
                    .value_labels
                    .remove(set)
                    .map(|_| ())
                    .ok_or(format!("label {set} not defined"))
            }
            "variable" => {
                let var = args.word()?;
                let text = args.text()?;
                args.done()?;
                if text.chars().count() > 80 {
                    return Err(format!("variable label of {var} longer than 80 characters"));
                }
                let at = self
                    .data
                    .position(var)
                    .ok_or(format!("variable {var} not found"))?;
                self.data.variables[at].label = Some(text.to_owned());
                Ok(())
            }
            other => Err(format!("label {other} is not used by labels.do")),
        }
    }

    fn encode(&mut self, args: &mut Args<'_>) -> Result<(), String> {
        let var = args.word()?;
        let mut options = args.options()?;
        options.sort();
        let (new, set) = match options.as_slice() {
            [(g, Some(new)), (l, Some(set)), (n, None)]
                if g == "generate" && l == "label" && n == "noextend" =>
            {
                (new.clone(), set.clone())
            }
            other => return Err(format!("encode options {other:?}")),
        };
        valid_name(&new)?;
        if self.data.position(&new).is_some() {
            return Err(format!("variable {new} already defined"));
        }
        let labels = self
            .data
            .value_labels
            .get(&set)
            .ok_or(format!("label {set} not defined"))?;
        let by_text: BTreeMap<&str, i64> = labels.iter().map(|(k, v)| (v.as_str(), *k)).collect();
        let Values::Text(text) = &self.data.variable(var).values else {
            return Err(format!("{var} is not a string"));
        };
        let values = text
            .iter()
            .map(|t| {
                if t.is_empty() {
                    Ok(None)
                } else {
                    by_text
                        .get(t.as_str())
                        .map(|k| Some(*k as f64))
                        .ok_or(format!(
                            "{var} holds {t:?}, which label {set} lacks (noextend)"
                        ))
                }
            })
            .collect::<Result<_, _>>()?;
        self.data.variables.push(Variable {
            name: new,
            values: Values::Number(values),
            label: None,
            value_label: Some(set),
        });
        Ok(())
    }

    /// Only `generate new = a + "text" + b`, string concatenation.
    fn generate(&mut self, args: &mut Args<'_>) -> Result<(), String> {
        let new = args.word()?;
        valid_name(new)?;
        args.punct('=')?;
        let a = args.word()?;
        args.punct('+')?;
        let middle = args.text()?;
        args.punct('+')?;
        let b = args.word()?;
        args.done()?;
        if self.data.position(new).is_some() {
            return Err(format!("variable {new} already defined"));
        }
        let text = |name: &str| match &self.data.variable(name).values {
            Values::Text(t) => Ok(t.clone()),
            Values::Number(_) => Err(format!("{name} is not a string")),
        };
        let (a, b) = (text(a)?, text(b)?);
        let joined = a
            .iter()
            .zip(&b)
            .map(|(x, y)| format!("{x}{middle}{y}"))
            .collect();
        self.data.variables.push(Variable {
            name: new.to_owned(),
            values: Values::Text(joined),
            label: None,
            value_label: None,
        });
        Ok(())
    }
}
