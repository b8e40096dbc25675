//! Unit tests: parameters, and the coordinator's and participants' rules driven one handler at a time.

use super::*;
