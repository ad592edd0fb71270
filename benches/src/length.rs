//! How long a benchmark runs: the full run whose figures go into `BENCHMARKS.md`, or a quick one
//! (`--quick`) of a few seconds that prints the same keys from fewer samples, for CI.

/// The length of a run, from the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// Every round and process the method describes.
    Full,
    /// Fewer rounds, processes and tasks: the same figures, noisier.
    Quick,
}

impl Length {
    /// Reads the parent's arguments (not a child's: see
    /// [`child_role`](crate::fresh_process::child_role)): none for [`Full`](Self::Full),
    /// `--quick` for [`Quick`](Self::Quick). On `--help` it prints the usage and exits; on anything
    /// else it prints the usage to stderr and exits with status 2.
    pub fn from_args(binary: &str) -> Self {
        match Self::parse(std::env::args().skip(1)) {
            Ok(Some(length)) => length,
            Ok(None) => {
                println!("usage: {binary} [--quick]");
                std::process::exit(0);
            }
            Err(arg) => {
                eprintln!("error: unknown argument `{arg}`\nusage: {binary} [--quick]");
                std::process::exit(2);
            }
        }
    }

    /// The length the arguments ask for, `None` for `--help`, or the first argument not understood.
    fn parse(args: impl Iterator<Item = String>) -> Result<Option<Self>, String> {
        let mut length = Self::Full;
        for arg in args {
            match arg.as_str() {
                "--quick" => length = Self::Quick,
                "-h" | "--help" => return Ok(None),
                _ => return Err(arg),
            }
        }
        Ok(Some(length))
    }

    /// `full` in a full run, else `quick`.
    pub fn pick<T>(self, full: T, quick: T) -> T {
        match self {
            Self::Full => full,
            Self::Quick => quick,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Length;

    #[test]
    fn arguments() {
        let parse = |args: &[&str]| Length::parse(args.iter().map(|arg| (*arg).to_owned()));
        assert_eq!(parse(&[]), Ok(Some(Length::Full)));
        assert_eq!(parse(&["--quick"]), Ok(Some(Length::Quick)));
        assert_eq!(parse(&["--help"]), Ok(None));
        assert_eq!(parse(&["--rounds"]), Err("--rounds".to_owned()));
        assert_eq!(Length::Quick.pick(31, 7), 7);
    }
}
