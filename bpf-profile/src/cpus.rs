//! The CPUs that are online, which sampling opens one event on each of, and which scale
//! CPU percentages.

/// Why the online CPUs could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CpuListError {
    /// The sysfs file could not be read.
    #[error("cannot read /sys/devices/system/cpu/online: {0}")]
    Read(#[from] std::io::Error),
    /// It held something that is not a CPU list.
    #[error("unexpected /sys/devices/system/cpu/online: {0:?}")]
    Parse(String),
}

/// The online CPUs, in increasing order, from `/sys/devices/system/cpu/online`.
pub fn online() -> Result<Vec<u32>, CpuListError> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online")?;
    parse_list(text.trim()).ok_or(CpuListError::Parse(text))
}

/// Parses a kernel CPU list such as `0-3,8,10-11`.
fn parse_list(text: &str) -> Option<Vec<u32>> {
    let mut cpus = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (
                    lo.trim().parse::<u32>().ok()?,
                    hi.trim().parse::<u32>().ok()?,
                );
                if hi < lo {
                    return None;
                }
                cpus.extend(lo..=hi);
            }
            None => cpus.push(part.trim().parse().ok()?),
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    Some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        assert_eq!(parse_list("0"), Some(vec![0]));
        assert_eq!(parse_list("0-1"), Some(vec![0, 1]));
        assert_eq!(parse_list("0,2-3"), Some(vec![0, 2, 3]));
        assert_eq!(parse_list("3-1"), None);
        assert_eq!(parse_list(""), None);
        assert!(!online().unwrap().is_empty());
    }
}
