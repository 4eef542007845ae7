//! Operation counters behind `/v2/stats/store`.

use serde::{Deserialize, Serialize};

/// Success/failure counts per operation, in 0.4.6's JSON member order.
/// `watchers` is the live number of registered watchers; it is not part of
/// a snapshot (watchers are local to a machine).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    #[serde(rename = "getsSuccess")]
    pub gets_success: u64,
    #[serde(rename = "getsFail")]
    pub gets_fail: u64,
    #[serde(rename = "setsSuccess")]
    pub sets_success: u64,
    #[serde(rename = "setsFail")]
    pub sets_fail: u64,
    #[serde(rename = "deleteSuccess")]
    pub delete_success: u64,
    #[serde(rename = "deleteFail")]
    pub delete_fail: u64,
    #[serde(rename = "updateSuccess")]
    pub update_success: u64,
    #[serde(rename = "updateFail")]
    pub update_fail: u64,
    #[serde(rename = "createSuccess")]
    pub create_success: u64,
    #[serde(rename = "createFail")]
    pub create_fail: u64,
    #[serde(rename = "compareAndSwapSuccess")]
    pub compare_and_swap_success: u64,
    #[serde(rename = "compareAndSwapFail")]
    pub compare_and_swap_fail: u64,
    #[serde(rename = "compareAndDeleteSuccess")]
    pub compare_and_delete_success: u64,
    #[serde(rename = "compareAndDeleteFail")]
    pub compare_and_delete_fail: u64,
    #[serde(rename = "expireCount")]
    pub expire_count: u64,
    pub watchers: u64,
}

impl StoreStats {
    /// Compact JSON, members in 0.4.6 order (`getsSuccess` … `watchers`).
    pub fn to_json(&self) -> String {
        // Serializing a struct of integers cannot fail; fall back to an empty
        // object rather than panicking all the same.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_json_member_order_matches_046() {
        let stats = StoreStats {
            gets_success: 1,
            watchers: 2,
            ..StoreStats::default()
        };
        assert_eq!(
            stats.to_json(),
            "{\"getsSuccess\":1,\"getsFail\":0,\"setsSuccess\":0,\"setsFail\":0,\
             \"deleteSuccess\":0,\"deleteFail\":0,\"updateSuccess\":0,\"updateFail\":0,\
             \"createSuccess\":0,\"createFail\":0,\"compareAndSwapSuccess\":0,\
             \"compareAndSwapFail\":0,\"compareAndDeleteSuccess\":0,\
             \"compareAndDeleteFail\":0,\"expireCount\":0,\"watchers\":2}"
        );
    }
}
