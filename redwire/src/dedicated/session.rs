//! [`Session`]: the state a dedicated connection carries from one command to
//! the next — an open `MULTI`, watched keys, another database, a mode — and
//! the commands that clear it before the connection's next user.
//!
//! It is tracked from what the connection sends (the rules' `Effect` of each
//! command), when it is sent: a command that fails on the server leaves the
//! session as it was, which can only make the tracked state dirtier than the
//! real one, never cleaner, so clearing it is always safe.

use crate::cmd::{cmd, Cmd};
use crate::rules::Effect;

/// What a dedicated connection's next user would inherit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Session {
    in_multi: bool,
    watching: bool,
    /// The database `SELECT` moved to, when it is not the configured one.
    database: Option<i64>,
    /// A mode or identity no simple command undoes.
    tainted: bool,
}

impl Session {
    /// Records what a command sent on the connection does.
    pub(crate) fn apply(&mut self, effect: Effect, configured_db: i64) {
        match effect {
            Effect::None => {}
            Effect::Multi => self.in_multi = true,
            Effect::EndTransaction => {
                self.in_multi = false;
                self.watching = false;
            }
            Effect::Watch => self.watching = true,
            Effect::Unwatch => self.watching = false,
            Effect::Select(db) => self.database = (db != configured_db).then_some(db),
            Effect::Taint => self.tainted = true,
        }
    }

    /// A `MULTI`/`EXEC` pipeline ran: whatever it held is over.
    pub(crate) fn transaction_ran(&mut self) {
        self.in_multi = false;
        self.watching = false;
    }

    /// True when the next user would find the connection as it was made.
    pub(crate) fn is_clean(&self) -> bool {
        *self == Session::default()
    }

    /// True when no command can make it clean again.
    #[cfg(any(feature = "pool", test))]
    pub(crate) fn is_tainted(&self) -> bool {
        self.tainted
    }

    /// The commands that clear it (in this order), or `None` when only a
    /// new connection can.
    pub(crate) fn clearing(&self, configured_db: i64) -> Option<Vec<Cmd>> {
        if self.tainted {
            return None;
        }
        let mut commands = Vec::new();
        if self.in_multi {
            // Also drops the watches.
            commands.push(cmd("DISCARD"));
        } else if self.watching {
            commands.push(cmd("UNWATCH"));
        }
        if self.database.is_some() {
            commands.push(cmd("SELECT").arg(configured_db));
        }
        Some(commands)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_effect_is_tracked_and_cleared_by_its_command() {
        let mut s = Session::default();
        assert!(s.is_clean() && !s.is_tainted());
        s.apply(Effect::Watch, 0);
        assert_eq!(s.clearing(0).unwrap()[0].name(), "UNWATCH");
        s.apply(Effect::Multi, 0);
        let names: Vec<String> = s.clearing(0).unwrap().iter().map(Cmd::name).collect();
        assert_eq!(names, ["DISCARD"]);
        s.apply(Effect::EndTransaction, 0);
        assert!(s.is_clean());
        s.apply(Effect::Select(3), 0);
        let names: Vec<String> = s.clearing(0).unwrap().iter().map(Cmd::name).collect();
        assert_eq!(names, ["SELECT"]);
        s.apply(Effect::Select(0), 0);
        assert!(s.is_clean(), "back on the configured database");
        s.apply(Effect::Taint, 0);
        assert!(s.clearing(0).is_none());
        assert!(s.is_tainted());
    }
}
