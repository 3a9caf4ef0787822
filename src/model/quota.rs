//! Quotas per tenant (`BOTMEM_QUOTA_*`): how many bots, users and KV keys
//! one tenant may have, and how many live variables one memory may hold,
//! so one tenant's runaway bot cannot fill the database all tenants share.
//! The store counts; the rule and its error are here.
use crate::error::{Error, Result};

/// `None`: no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quotas {
    pub bots: Option<u64>,
    pub users: Option<u64>,
    pub kv_keys: Option<u64>,
    pub variables_per_memory: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quota {
    Bots,
    Users,
    KvKeys,
    VariablesPerMemory,
}

impl Quotas {
    pub fn limit(&self, quota: Quota) -> Option<u64> {
        match quota {
            Quota::Bots => self.bots,
            Quota::Users => self.users,
            Quota::KvKeys => self.kv_keys,
            Quota::VariablesPerMemory => self.variables_per_memory,
        }
    }

    /// `count` is how many there would be after the write.
    pub fn admit(&self, quota: Quota, count: u64) -> Result<()> {
        match self.limit(quota) {
            Some(limit) if count > limit => Err(Error::QuotaExceeded(match quota {
                Quota::Bots => format!("the tenant has reached its limit of {limit} bots"),
                Quota::Users => format!("the tenant has reached its limit of {limit} users"),
                Quota::KvKeys => format!("the tenant has reached its limit of {limit} KV keys"),
                Quota::VariablesPerMemory => {
                    format!("a memory may hold at most {limit} variables")
                }
            })),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_itself_is_allowed_one_more_is_not() {
        let quotas = Quotas {
            bots: Some(2),
            ..Default::default()
        };
        assert!(quotas.admit(Quota::Bots, 2).is_ok());
        assert!(matches!(
            quotas.admit(Quota::Bots, 3),
            Err(Error::QuotaExceeded(_))
        ));
        assert!(quotas.admit(Quota::Users, u64::MAX).is_ok());
    }
}
