//! The registry as a value: the protocols a CLI (or any by-name lookup) knows, with their
//! descriptions and entry points. distsim's own binary uses [`Registry::builtin`]; a user's binary adds
//! its protocols with [`Registry::with`] and hands the result to `distsim::cli::main_with`, which
//! [`install`]s it, so every subcommand (run, validate, replay, sweep, shrink, ...) knows them.

use super::Runner;
use crate::contract::Protocol;
use crate::protocols::registry::{self as builtin, ProtocolCollector, ProtocolInfo};
use std::sync::OnceLock;

/// One protocol: what `list` shows and how to run it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its name, about line, checkers, mutants, params and groups.
    pub info: ProtocolInfo,
    /// How to validate and run its scenarios.
    pub runner: Runner,
}

/// The protocols known by name.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    /// No protocol at all.
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// Every protocol distsim ships.
    pub fn builtin() -> Registry {
        struct Collect(Registry);
        impl ProtocolCollector for Collect {
            fn add<P: Protocol>(&mut self) {
                let registry = std::mem::take(&mut self.0);
                self.0 = registry.with::<P>();
            }
        }
        let mut collect = Collect(Registry::empty());
        builtin::each(&mut collect);
        collect.0
    }

    /// This registry with protocol `P` added (replacing one of the same name).
    pub fn with<P: Protocol>(mut self) -> Registry {
        let entry = Entry {
            info: builtin::info::<P>(),
            runner: Runner::of::<P>(),
        };
        match self.entries.iter_mut().find(|e| e.info.name == P::NAME) {
            Some(e) => *e = entry,
            None => self.entries.push(entry),
        }
        self
    }

    /// The protocol called `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.info.name == name)
    }

    /// Every protocol, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Their names.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.info.name).collect()
    }
}

static INSTALLED: OnceLock<Registry> = OnceLock::new();

/// Makes `registry` the one by-name lookups use for the rest of the process. False (and nothing
/// changes) if one was installed or used already.
pub fn install(registry: Registry) -> bool {
    INSTALLED.set(registry).is_ok()
}

/// The registry by-name lookups use: the installed one, else [`Registry::builtin`].
pub fn current() -> &'static Registry {
    INSTALLED.get_or_init(Registry::builtin)
}
