//! Who a fault hits: a node id, whoever holds a role when the fault fires, a protocol's named group
//! (or one member of it), or every server.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Which node a fault hits: a node id, whoever holds a role when the fault fires, or every server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One node by id.
    Node(u32),
    /// The node holding this role when the fault fires (the one that took it most recently).
    Role(String),
    /// Every server (for `restart` and `resume`: every server that is down or paused).
    All,
    /// The members of one of the protocol's named groups (`{"group": "participants"}`), or one of
    /// them by its index in the group (`{"group": "participants", "member": 2}`).
    Group {
        /// The group's name.
        name: String,
        /// The member's index in the group; every member when `None`.
        member: Option<u32>,
    },
}

/// The object form of a group target.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupTarget {
    group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    member: Option<u32>,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Node(n) => write!(f, "node {n}"),
            Target::Role(r) => write!(f, "the {r}"),
            Target::All => write!(f, "all"),
            Target::Group { name, member: None } => write!(f, "group {name}"),
            Target::Group {
                name,
                member: Some(m),
            } => write!(f, "{name}[{m}]"),
        }
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Target::Node(n) => s.serialize_u32(*n),
            Target::Role(r) => s.serialize_str(r),
            Target::All => s.serialize_str("all"),
            Target::Group { name, member } => GroupTarget {
                group: name.clone(),
                member: *member,
            }
            .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Target;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a node id, a role name such as \"leader\", \"all\", or {\"group\": NAME}",
                )
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<Target, M::Error> {
                let g =
                    GroupTarget::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                if g.group.is_empty() {
                    return Err(serde::de::Error::custom("empty group name"));
                }
                Ok(Target::Group {
                    name: g.group,
                    member: g.member,
                })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Target, E> {
                u32::try_from(v)
                    .map(Target::Node)
                    .map_err(|_| E::custom("node id too large"))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Target, E> {
                Err(E::custom(format!("node id must not be negative, got {v}")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Target, E> {
                if v == "all" {
                    Ok(Target::All)
                } else if v.is_empty() {
                    Err(E::custom("empty role name"))
                } else {
                    Ok(Target::Role(v.to_string()))
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_as_the_timeline_writes_them() {
        let group = |member| Target::Group {
            name: "participants".into(),
            member,
        };
        for (target, text) in [
            (Target::Node(2), "node 2"),
            (Target::Role("leader".into()), "the leader"),
            (Target::All, "all"),
            (group(None), "group participants"),
            (group(Some(1)), "participants[1]"),
        ] {
            assert_eq!(target.to_string(), text);
        }
    }

    #[test]
    fn a_target_of_the_wrong_type_says_what_a_target_is() {
        let err = serde_json::from_str::<Target>("true").expect_err("not a target");
        assert!(
            err.to_string().contains(
                r#"expected a node id, a role name such as "leader", "all", or {"group": NAME}"#
            ),
            "{err}"
        );
    }
}
