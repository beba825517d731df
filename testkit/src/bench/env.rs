//! A benchmark's knobs, read from environment variables.

use std::str::FromStr;

/// An environment variable whose value does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{name}={value:?} is not a valid value")]
pub struct InvalidValue {
    /// The variable.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// The value of variable `name` (surrounding blanks ignored), or `default` when it is unset.
pub fn parse<T: FromStr>(name: &str, default: T) -> Result<T, InvalidValue> {
    match std::env::var(name) {
        Ok(value) => value.trim().parse().map_err(|_| InvalidValue {
            name: name.to_string(),
            value,
        }),
        Err(_) => Ok(default),
    }
}

/// [`parse`], or the message on stderr and exit status 2 when the value does not parse.
pub fn parse_or_exit<T: FromStr>(name: &str, default: T) -> T {
    parse(name, default).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_set_and_invalid() {
        assert_eq!(parse("TESTKIT_BENCH_ENV_UNSET", 5usize).unwrap(), 5);
        // SAFETY: this test is the only user of these variables; nothing else reads them.
        unsafe {
            std::env::set_var("TESTKIT_BENCH_ENV_SET", " 7 ");
            std::env::set_var("TESTKIT_BENCH_ENV_BAD", "seven");
        }
        assert_eq!(parse("TESTKIT_BENCH_ENV_SET", 5usize).unwrap(), 7);
        let e = parse("TESTKIT_BENCH_ENV_BAD", 5usize).unwrap_err();
        assert_eq!(
            e.to_string(),
            "TESTKIT_BENCH_ENV_BAD=\"seven\" is not a valid value"
        );
    }
}
