//! The headless options every screen takes, so tests, demos and docs drive each one the same
//! way: `--headless --keys KEYS --size COLUMNSxROWS --frames-out FILE --screenshot FILE.svg`.

use std::path::PathBuf;

use xdpdbg::tui::kit::{Headless, headless, keys};

/// `--headless` and its companions, flattened into each screen's command.
#[derive(clap::Args, Debug, Clone)]
pub struct HeadlessArgs {
    /// Play --keys on an in-memory screen and print the last screen as text (for tests, demos
    /// and docs)
    #[arg(long)]
    pub headless: bool,
    /// Keys to play headless, separated by spaces (quotes group; `text:...` types, `wait:MS`
    /// waits): up down enter esc tab / q ? and letters
    #[arg(long, value_name = "KEYS", requires = "headless", default_value = "")]
    pub keys: String,
    /// Screen size, headless
    #[arg(
        long,
        value_name = "COLUMNSxROWS",
        default_value = "120x40",
        requires = "headless"
    )]
    pub size: String,
    /// Headless: write every screen (one per key) to this file instead of printing the last
    #[arg(long, value_name = "FILE", requires = "headless")]
    pub frames_out: Option<PathBuf>,
    /// Headless: also write the last screen, in color, as an SVG picture to this file
    #[arg(long, value_name = "FILE.svg", requires = "headless")]
    pub screenshot: Option<PathBuf>,
}

impl HeadlessArgs {
    /// The headless run asked for, or `None` for the interactive screen. Errors name the bad
    /// key or size.
    pub fn headless(&self) -> anyhow::Result<Option<Headless>> {
        if !self.headless {
            return Ok(None);
        }
        let (width, height) = headless::parse_size(&self.size)?;
        Ok(Some(Headless {
            keys: keys::parse_script(&self.keys)?,
            width,
            height,
            frames_out: self.frames_out.clone(),
            screenshot: self.screenshot.clone(),
        }))
    }
}
