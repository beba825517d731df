//! The eight labs: their numbers, names, timings, and the files each starts from and is solved
//! with. The files live in `workshop/labs/NN-slug/{start,solution}/` and are embedded, so the
//! `lab` binary works from anywhere.

/// One file a lab copies into the attendee's working folder (or its solution puts there).
#[derive(Debug, Clone, Copy)]
pub struct LabFile {
    /// The file's name inside the working folder.
    pub name: &'static str,
    /// Its contents.
    pub text: &'static str,
}

/// One lab of the workshop.
#[derive(Debug, Clone, Copy)]
pub struct Lab {
    /// 1 to 8.
    pub number: u8,
    /// The name of its folder and page (`bounds-check`, ...).
    pub slug: &'static str,
    /// What it teaches, in a line.
    pub title: &'static str,
    /// How long it takes a beginner, in minutes.
    pub minutes: u32,
    /// The files the attendee starts from.
    pub start: &'static [LabFile],
    /// The files of the solution (`solution.sh`, when there is one, is a script the
    /// solution runs in the working folder).
    pub solution: &'static [LabFile],
}

macro_rules! file {
    ($lab:literal, $part:literal, $name:literal) => {
        LabFile {
            name: $name,
            text: include_str!(concat!("../labs/", $lab, "/", $part, "/", $name)),
        }
    };
}

/// The header of the ageing protocol (bpf-maps), which lab 7's data plane includes.
pub const AGEING_HEADER: LabFile = LabFile {
    name: "include/bpf_maps/ageing.h",
    text: include_str!("../../bpf-maps/include/bpf_maps/ageing.h"),
};

/// Every lab, in order.
pub const LABS: [Lab; 8] = [
    Lab {
        number: 1,
        slug: "bounds-check",
        title: "Fix a missing bounds check with verifier-explain",
        minutes: 15,
        start: &[file!("01-bounds-check", "start", "prog.bpf.c")],
        solution: &[file!("01-bounds-check", "solution", "prog.bpf.c")],
    },
    Lab {
        number: 2,
        slug: "null-check",
        title: "Fix a missing NULL check after a map lookup",
        minutes: 10,
        start: &[file!("02-null-check", "start", "prog.bpf.c")],
        solution: &[file!("02-null-check", "solution", "prog.bpf.c")],
    },
    Lab {
        number: 3,
        slug: "loop",
        title: "Fix a loop the verifier will not accept",
        minutes: 15,
        start: &[file!("03-loop", "start", "prog.bpf.c")],
        solution: &[file!("03-loop", "solution", "prog.bpf.c")],
    },
    Lab {
        number: 4,
        slug: "reference-leak",
        title: "Fix a reference leak: a ring buffer record never submitted",
        minutes: 15,
        start: &[file!("04-reference-leak", "start", "prog.bpf.c")],
        solution: &[file!("04-reference-leak", "solution", "prog.bpf.c")],
    },
    Lab {
        number: 5,
        slug: "hot-line",
        title: "Find the hot line of a slow program with xdpdbg top, and fix it",
        minutes: 20,
        start: &[
            file!("05-hot-line", "start", "prog.bpf.c"),
            file!("05-hot-line", "start", "answer.txt"),
        ],
        solution: &[
            file!("05-hot-line", "solution", "prog.bpf.c"),
            file!("05-hot-line", "solution", "answer.txt"),
        ],
    },
    Lab {
        number: 6,
        slug: "live-map",
        title: "Inspect and edit a live map with xdpdbg map",
        minutes: 15,
        start: &[file!("06-live-map", "start", "guard.bpf.c")],
        solution: &[file!("06-live-map", "solution", "solution.sh")],
    },
    Lab {
        number: 7,
        slug: "ageing-race",
        title: "Reproduce the ageing race, then fix it with compare-and-swap",
        minutes: 25,
        start: &[
            file!("07-ageing-race", "start", "flows.bpf.c"),
            file!("07-ageing-race", "start", "ager.sh"),
            AGEING_HEADER,
        ],
        solution: &[file!("07-ageing-race", "solution", "ager.sh")],
    },
    Lab {
        number: 8,
        slug: "fast-path",
        title: "Accelerate a bridge with switch-ctl and watch the fast path",
        minutes: 20,
        start: &[file!("08-fast-path", "start", "notes.txt")],
        solution: &[file!("08-fast-path", "solution", "solution.sh")],
    },
];

/// The lab numbered `number`, if there is one.
pub fn lab(number: u8) -> Option<&'static Lab> {
    LABS.iter().find(|l| l.number == number)
}

impl Lab {
    /// The lab's page in the docs, relative to the repository.
    pub fn page(&self) -> String {
        format!("docs/workshop/lab{:02}-{}.md", self.number, self.slug)
    }

    /// The solution's folder in the repository.
    pub fn solution_dir(&self) -> String {
        format!("workshop/labs/{:02}-{}/solution/", self.number, self.slug)
    }

    /// The starting file called `name`.
    pub fn start_file(&self, name: &str) -> Option<&'static LabFile> {
        self.start.iter().find(|f| f.name == name)
    }
}
