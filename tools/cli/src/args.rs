//! A small argv parser: `--name value` options (repeatable where the
//! command says so) and positional arguments, in any order.

use crate::Failure;

/// Parsed options and positionals of one command.
pub struct Args {
    options: Vec<(String, String)>,
    positionals: Vec<String>,
}

impl Args {
    /// Splits `argv` (after the command words). Every `--name` takes the
    /// next argument as its value; `--` ends the options.
    pub fn parse(argv: &[String]) -> Result<Args, String> {
        let mut args = Args {
            options: Vec::new(),
            positionals: Vec::new(),
        };
        let mut it = argv.iter();
        while let Some(arg) = it.next() {
            if arg == "--" {
                args.positionals.extend(it.by_ref().cloned());
            } else if let Some(name) = arg.strip_prefix("--") {
                let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
                args.options.push((name.to_owned(), value.clone()));
            } else {
                args.positionals.push(arg.clone());
            }
        }
        Ok(args)
    }

    /// Refuses options outside `known`, repeated options other than
    /// `prop`, and a positional count other than `positionals`.
    pub fn allow(&self, known: &[&str], positionals: usize) -> Result<(), Failure> {
        for (i, (name, _)) in self.options.iter().enumerate() {
            if !known.contains(&name.as_str()) {
                return Err(Failure::Usage(format!("unknown option --{name}")));
            }
            if name != "prop" && self.options[..i].iter().any(|(n, _)| n == name) {
                return Err(Failure::Usage(format!("--{name} given twice")));
            }
        }
        if self.positionals.len() != positionals {
            return Err(Failure::Usage(format!(
                "expected {positionals} argument(s), got {}",
                self.positionals.len()
            )));
        }
        Ok(())
    }

    /// The value of `--name`, if given.
    pub fn optional(&self, name: &str) -> Result<Option<&str>, Failure> {
        Ok(self.all(name).next())
    }

    /// The value of `--name`, which must be given.
    pub fn required(&self, name: &str) -> Result<&str, Failure> {
        self.optional(name)?
            .ok_or_else(|| Failure::Usage(format!("missing --{name}")))
    }

    /// Every value of a repeatable `--name`, in order.
    pub fn all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = name.to_owned();
        self.options
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `index`-th positional argument.
    pub fn positional(&self, index: usize) -> Result<&str, Failure> {
        self.positionals
            .get(index)
            .map(String::as_str)
            .ok_or_else(|| Failure::Usage("missing argument".into()))
    }
}
