//! The contract registry's rows, and the key companies are compared by.

use super::sql::{OptionalExtension as _, params};
use crate::error::{ContractError, StoreError};
use fanlic_formats::{ActivationPolicy, Date, Expiry, LicenseKind, Timestamp, Version};

use super::{Tx, corrupt, err, int};
use crate::Error;
use crate::util::input;
pub use crate::util::text::company_key;

/// A contract's terms: what `add` takes and what a contract holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractTerms {
    /// The company, as the customer writes it.
    pub company: String,
    /// Addresses allowed to request licenses, normalized, at least one.
    pub emails: Vec<String>,
    /// When the contract was signed.
    pub signed: Date,
    /// `FineReport` or `FineBI`.
    pub product: &'static str,
    /// Registration methods allowed, at least one, local-container first.
    pub methods: Vec<LicenseKind>,
    /// Most cluster nodes purchased.
    pub max_nodes: u32,
    /// Licensed version.
    pub version: Version,
    /// Last day of the term, or perpetual.
    pub expires: Expiry,
    /// How many projects may hold a live license at once (1 unless bought).
    pub max_licenses: u32,
    /// How its licenses are activated.
    pub activation_policy: ActivationPolicy,
    /// Days a private-cloud receipt lasts before the server must be
    /// activated again; `None`: no lease. Only with the receipt policy and
    /// the private-cloud method.
    pub lease_days: Option<u32>,
}

/// A contract in the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contract {
    /// Its number.
    pub id: i64,
    /// What was bought.
    pub terms: ContractTerms,
    /// Whether licenses may be issued under it.
    pub enabled: bool,
    /// When it was recorded.
    pub created_at: Timestamp,
    /// Who recorded it.
    pub created_by: String,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Who changed it last.
    pub updated_by: String,
}

/// One change to a contract, from the audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractChange {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// `add`, `import`, `update`, `disable` or `enable`.
    pub action: String,
    /// The contract as it became (JSON), when the row recorded it.
    pub after: Option<String>,
}

const SELECT: &str = "SELECT contract_id, company, signed, product, methods, max_nodes, version, expires, enabled,
        created_at, created_by, updated_at, updated_by, max_licenses, activation_policy, lease_days FROM contracts";

/// The stored comma list of methods, in canonical order.
fn methods_text(methods: &[LicenseKind]) -> String {
    methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(",")
}

/// The reverse of [`methods_text`]: at least one method, canonical order.
fn methods_of(s: &str) -> Option<Vec<LicenseKind>> {
    let (mut local, mut cloud) = (false, false);
    for piece in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match piece.to_ascii_lowercase().parse::<LicenseKind>().ok()? {
            LicenseKind::LocalContainer => local = true,
            LicenseKind::PrivateCloud => cloud = true,
        }
    }
    let out: Vec<LicenseKind> = [(local, LicenseKind::LocalContainer), (cloud, LicenseKind::PrivateCloud)]
        .into_iter()
        .filter_map(|(has, m)| has.then_some(m))
        .collect();
    (!out.is_empty()).then_some(out)
}

/// Which contracts [`Tx::contracts`] reads.
enum Which {
    All,
    Enabled,
    Id(i64),
}

/// Reads one row of [`SELECT`] (its emails not yet).
fn contract_row(path: &std::path::Path, r: &super::sql::Row<'_>) -> Result<Contract, Error> {
    let g = |e: super::sql::Error| {
        Error::Store(StoreError::Database {
            action: "cannot read the contracts",
            path: path.to_owned(),
            source: e.into(),
        })
    };
    let id: i64 = r.get(0).map_err(g)?;
    let bad = |what: &str, v: &str| corrupt(path, format!("contract {id} has a bad {what} {v:?}"));
    let signed: String = r.get(2).map_err(g)?;
    let product: String = r.get(3).map_err(g)?;
    let methods: String = r.get(4).map_err(g)?;
    let max_nodes: i64 = r.get(5).map_err(g)?;
    let version: String = r.get(6).map_err(g)?;
    let expires: String = r.get(7).map_err(g)?;
    let time = |v: i64| u64::try_from(v).map(Timestamp).map_err(|_| bad("time", &v.to_string()));
    Ok(Contract {
        id,
        terms: ContractTerms {
            company: r.get(1).map_err(g)?,
            emails: Vec::new(),
            signed: Date::parse(&signed).ok_or_else(|| bad("signing date", &signed))?,
            product: input::app(&product).map_err(|_| bad("product", &product))?,
            methods: methods_of(&methods).ok_or_else(|| bad("methods", &methods))?,
            max_nodes: u32::try_from(max_nodes).map_err(|_| bad("max_nodes", &max_nodes.to_string()))?,
            version: version.parse::<Version>().map_err(|_| bad("version", &version))?,
            expires: input::expiry(&expires).map_err(|_| bad("expiry", &expires))?,
            max_licenses: {
                let n: i64 = r.get(13).map_err(g)?;
                u32::try_from(n).map_err(|_| bad("max_licenses", &n.to_string()))?
            },
            activation_policy: {
                let p: String = r.get(14).map_err(g)?;
                p.trim().to_ascii_lowercase().parse::<ActivationPolicy>().map_err(|_| bad("activation_policy", &p))?
            },
            lease_days: match r.get::<_, Option<i64>>(15).map_err(g)? {
                Some(n) => Some(u32::try_from(n).map_err(|_| bad("lease_days", &n.to_string()))?),
                None => None,
            },
        },
        enabled: r.get::<_, i64>(8).map_err(g)? != 0,
        created_at: time(r.get(9).map_err(g)?)?,
        created_by: r.get(10).map_err(g)?,
        updated_at: time(r.get(11).map_err(g)?)?,
        updated_by: r.get(12).map_err(g)?,
    })
}

impl Tx<'_> {
    fn load_contracts(&self, which: Which) -> Result<Vec<Contract>, Error> {
        let (conn, path) = (self.conn, self.path);
        let read = || err(path, "cannot read the contracts");
        let (where_sql, arg) = match which {
            Which::All => ("", None),
            Which::Enabled => ("WHERE enabled = 1", None),
            Which::Id(id) => ("WHERE contract_id = ?1", Some(id)),
        };
        // Cached: `fanlic ingest` looks contracts up twice per message.
        let mut stmt = conn.prepare_cached(&format!("{SELECT} {where_sql} ORDER BY contract_id")).map_err(read())?;
        let mut rows = match arg {
            Some(a) => stmt.query(params![a]),
            None => stmt.query(params![]),
        }
        .map_err(read())?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(read())? {
            out.push(contract_row(path, &r)?);
        }
        drop(rows);
        self.fill_contract_emails(&mut out)?;
        Ok(out)
    }

    /// Reads each contract's addresses.
    fn fill_contract_emails(&self, contracts: &mut [Contract]) -> Result<(), Error> {
        let read = || err(self.path, "cannot read the contracts");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT email FROM contract_emails WHERE contract_id = ?1 ORDER BY rowid")
            .map_err(read())?;
        for c in contracts {
            let emails = stmt.query_map(params![c.id], |r| r.get::<_, String>(0)).map_err(read())?;
            c.terms.emails = emails.collect::<Result<_, _>>().map_err(read())?;
        }
        Ok(())
    }

    /// Every contract by id; disabled ones only with `all`.
    pub fn contracts(&self, all: bool) -> Result<Vec<Contract>, Error> {
        self.load_contracts(if all { Which::All } else { Which::Enabled })
    }

    /// The contract with this id.
    pub fn contract(&self, id: i64) -> Result<Option<Contract>, Error> {
        Ok(self.load_contracts(Which::Id(id))?.into_iter().next())
    }

    /// The contract with this id, which must exist (it was just written).
    pub fn contract_written(&self, id: i64) -> Result<Contract, Error> {
        self.contract(id)?.ok_or_else(|| corrupt(self.path, format!("contract {id} vanished")))
    }

    /// The id of the contract of a company, compared by [`company_key`].
    pub fn contract_id_by_company(&self, name: &str) -> Result<Option<i64>, Error> {
        self.conn
            .prepare_cached("SELECT contract_id FROM contracts WHERE company_key = ?1")
            .and_then(|mut s| s.query_row(params![company_key(name)], |r| r.get(0)).optional())
            .map_err(err(self.path, "cannot read the contracts"))
    }

    /// The contract with this number, else of this company; else
    /// [`ContractError::NotFound`].
    pub fn resolve_contract(&self, which: &str) -> Result<Contract, Error> {
        if let Ok(id) = which.trim().parse::<i64>()
            && let Some(c) = self.contract(id)?
        {
            return Ok(c);
        }
        match self.contract_id_by_company(which)? {
            Some(id) => self.contract_written(id),
            None => Err(Error::Contract(ContractError::NotFound { given: which.to_owned() })),
        }
    }

    /// The enabled contract holding `email` (normalized), other than
    /// `except`: its id and company.
    pub fn contract_email_owner(&self, email: &str, except: Option<i64>) -> Result<Option<(i64, String)>, Error> {
        self.conn
            .query_row(
                "SELECT c.contract_id, c.company FROM contract_emails e JOIN contracts c USING (contract_id)
                 WHERE e.email = ?1 AND c.enabled = 1 AND c.contract_id IS DISTINCT FROM ?2 ORDER BY c.contract_id LIMIT 1",
                params![email, except],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err(self.path, "cannot read the contract addresses"))
    }

    /// Whether an enabled contract holds this address (normalized).
    pub fn is_enabled_contract_email(&self, email: &str) -> Result<bool, Error> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM contract_emails e JOIN contracts c USING (contract_id)
                                WHERE e.email = ?1 AND c.enabled = 1)",
            )
            .and_then(|mut s| s.query_row(params![email], |r| r.get(0)))
            .map_err(err(self.path, "cannot read the contracts"))
    }

    /// The id of the contract an address (normalized) belongs to: the
    /// enabled one if there is one, else the most recently changed.
    pub fn contract_id_by_email(&self, email: &str) -> Result<Option<i64>, Error> {
        self.conn
            .prepare_cached(
                "SELECT c.contract_id FROM contract_emails e JOIN contracts c USING (contract_id)
                 WHERE e.email = ?1 ORDER BY c.enabled DESC, c.updated_at DESC, c.contract_id DESC LIMIT 1",
            )
            .and_then(|mut s| s.query_row(params![email], |r| r.get(0)).optional())
            .map_err(err(self.path, "cannot read the contract addresses"))
    }

    fn write_emails(&self, id: i64, emails: &[String]) -> Result<(), Error> {
        let w = || err(self.path, "cannot record the contract addresses");
        self.conn.execute("DELETE FROM contract_emails WHERE contract_id = ?1", params![id]).map_err(w())?;
        for e in emails {
            self.conn
                .execute("INSERT INTO contract_emails (contract_id, email) VALUES (?1, ?2)", params![id, e])
                .map_err(w())?;
        }
        Ok(())
    }

    /// Records a new, enabled contract with its addresses; its id.
    pub fn insert_contract(&self, t: &ContractTerms, by: &str, now: Timestamp) -> Result<i64, Error> {
        let id = self
            .conn
            .query_row(
                "INSERT INTO contracts (company, company_key, signed, product, methods, max_nodes, version, expires,
                     enabled, created_at, created_by, updated_at, updated_by, max_licenses, activation_policy,
                     lease_days)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?9, ?10, ?11, ?12, ?13)
                 RETURNING contract_id",
                params![
                    t.company,
                    company_key(&t.company),
                    t.signed.to_string(),
                    t.product,
                    methods_text(&t.methods),
                    i64::from(t.max_nodes),
                    t.version.to_string(),
                    t.expires.to_string(),
                    int(now.0),
                    by,
                    i64::from(t.max_licenses),
                    t.activation_policy.as_str(),
                    t.lease_days.map(i64::from),
                ],
                |r| r.get::<_, i64>(0),
            )
            .map_err(err(self.path, "cannot record the contract"))?;
        self.write_emails(id, &t.emails)?;
        Ok(id)
    }

    /// Replaces a contract's terms, addresses and enabled flag.
    pub fn replace_contract(
        &self,
        id: i64,
        t: &ContractTerms,
        enabled: bool,
        by: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE contracts SET company = ?2, company_key = ?3, signed = ?4, product = ?5, methods = ?6,
                     max_nodes = ?7, version = ?8, expires = ?9, enabled = ?10, updated_at = ?11, updated_by = ?12,
                     max_licenses = ?13, activation_policy = ?14, lease_days = ?15
                 WHERE contract_id = ?1",
                params![
                    id,
                    t.company,
                    company_key(&t.company),
                    t.signed.to_string(),
                    t.product,
                    methods_text(&t.methods),
                    i64::from(t.max_nodes),
                    t.version.to_string(),
                    t.expires.to_string(),
                    i64::from(enabled),
                    int(now.0),
                    by,
                    i64::from(t.max_licenses),
                    t.activation_policy.as_str(),
                    t.lease_days.map(i64::from),
                ],
            )
            .map_err(err(self.path, "cannot update the contract"))?;
        self.write_emails(id, &t.emails)
    }

    /// Every change to a contract, oldest first.
    pub fn contract_history(&self, id: i64) -> Result<Vec<ContractChange>, Error> {
        let path = self.path;
        let read = || err(path, "cannot read the contract history");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT at, by, substr(action, 10), data FROM audit WHERE contract_id = ?1 AND action LIKE 'contract-%'
                 ORDER BY audit_id",
            )
            .map_err(read())?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(read())?;
        let mut out = Vec::new();
        for row in rows {
            let (at, by, action, after) = row.map_err(read())?;
            let at =
                u64::try_from(at).map_err(|_| corrupt(path, format!("contract {id} has a bad audit time {at}")))?;
            out.push(ContractChange { at: Timestamp(at), by, action, after });
        }
        Ok(out)
    }
}

/// Which contracts a search keeps, by state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContractFilter {
    /// Enabled and in term.
    Active,
    /// Disabled.
    Disabled,
    /// Enabled, term ended.
    Expired,
    /// Enabled, with as many live licenses as it covers (or more).
    Full,
}

impl ContractFilter {
    /// Every filter, in the order a list offers them.
    pub const ALL: [Self; 4] = [Self::Active, Self::Disabled, Self::Expired, Self::Full];

    /// Its name in a query string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::Expired => "expired",
            Self::Full => "full",
        }
    }

    /// From its name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }
}

/// A contract found by [`Tx::search_contracts`], with its live license count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractListed {
    /// The contract.
    pub contract: Contract,
    /// Its company's live licenses.
    pub live: u64,
}

/// A live license of a contract's company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractLicense {
    /// 32 hex digits.
    pub license_id: String,
    /// The project.
    pub project: String,
    /// `local-container` or `private-cloud`.
    pub kind: String,
    /// Licensed major.minor.
    pub version: String,
    /// Node limit.
    pub max_nodes: u32,
    /// `never` or YYYY-MM-DD.
    pub expiry: String,
    /// When it was issued.
    pub issued_at: Timestamp,
}

impl Tx<'_> {
    /// Contracts matching `q` and `filter`, by company key, `limit` of them
    /// after the first `offset`. `q` (empty: every contract) matches the
    /// contract number (`12` or `#12`), a piece of the company name (folded
    /// like [`company_key`]), a piece of an address, or the product.
    /// `today` decides what has expired.
    ///
    /// A piece of a name has no B-tree index to use, so the matches are
    /// found first, each from the smallest thing that holds it (the number
    /// by primary key; names from the company key's covering index;
    /// addresses from their table): 10,000 contracts take a few
    /// milliseconds. Only the matches are then read, sorted and paged; a
    /// product name (half the registry) walks the company key's index instead.
    pub fn search_contracts(
        &self,
        q: &str,
        filter: Option<ContractFilter>,
        today: Date,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<ContractListed>, Error> {
        let path = self.path;
        let read = || err(path, "cannot search the contracts");
        let q = q.trim();
        let id = q.strip_prefix('#').unwrap_or(q).parse::<i64>().ok();
        let key = company_key(q);
        let lower = q.to_lowercase();
        let product = input::app(q).ok();
        let mut hits = Vec::new();
        if id.is_some() {
            hits.push("SELECT contract_id FROM contracts WHERE contract_id = ?2");
        }
        if !key.is_empty() {
            hits.push("SELECT contract_id FROM contracts WHERE instr(company_key, ?1) > 0");
        }
        if !lower.is_empty() {
            hits.push("SELECT contract_id FROM contract_emails WHERE instr(email, ?3) > 0");
        }
        let with =
            if hits.is_empty() { String::new() } else { format!("WITH hits (id) AS ({}) ", hits.join(" UNION ")) };
        let (from, matching) = if q.is_empty() && filter == Some(ContractFilter::Full) {
            // Only companies holding live licenses can be full: they drive.
            ("live_license_counts n0 CROSS JOIN contracts c ON c.company_key = n0.company_key", "TRUE")
        } else if q.is_empty() {
            ("contracts c", "TRUE")
        } else if product.is_some() {
            // A product matches about half the registry: walking the
            // company key's index stops after a page.
            ("contracts c", "(c.product = ?4 OR c.contract_id IN (SELECT id FROM hits))")
        } else {
            // Few matches: they drive the join (CROSS JOIN keeps the order).
            ("hits CROSS JOIN contracts c ON c.contract_id = hits.id", "TRUE")
        };
        let sql = format!(
            "{with}SELECT c.contract_id, c.company, c.signed, c.product, c.methods, c.max_nodes, c.version, c.expires,
                    c.enabled, c.created_at, c.created_by, c.updated_at, c.updated_by, c.max_licenses,
                    c.activation_policy, c.lease_days, coalesce(n.live, 0)
             FROM {from} LEFT JOIN live_license_counts n ON n.company_key = c.company_key
             WHERE {matching} AND CASE ?5
                     WHEN 'active' THEN c.enabled = 1 AND (c.expires = 'never' OR c.expires >= ?6)
                     WHEN 'disabled' THEN c.enabled = 0
                     WHEN 'expired' THEN c.enabled = 1 AND c.expires <> 'never' AND c.expires < ?6
                     WHEN 'full' THEN c.enabled = 1 AND coalesce(n.live, 0) >= c.max_licenses
                     ELSE TRUE END
             ORDER BY c.company_key LIMIT ?7 OFFSET ?8"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(read())?;
        let mut rows = stmt
            .query(params![
                key,
                id,
                lower,
                product,
                filter.map_or("", ContractFilter::as_str),
                today.to_string(),
                i64::from(limit),
                i64::try_from(offset).unwrap_or(i64::MAX),
            ])
            .map_err(read())?;
        let mut found = Vec::new();
        let mut live = Vec::new();
        while let Some(r) = rows.next().map_err(read())? {
            found.push(contract_row(path, &r)?);
            live.push(u64::try_from(r.get::<_, i64>(16).map_err(read())?).unwrap_or(0));
        }
        drop(rows);
        self.fill_contract_emails(&mut found)?;
        Ok(found.into_iter().zip(live).map(|(contract, live)| ContractListed { contract, live }).collect())
    }

    /// The live licenses of a company (compared by [`company_key`]), oldest first.
    pub fn contract_live_licenses(&self, company: &str) -> Result<Vec<ContractLicense>, Error> {
        let read = || err(self.path, "cannot read the licenses");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT license_id, project, kind, version, max_nodes, expiry, issued_at FROM licenses
                 WHERE company_key = ?1 AND state = 'live' ORDER BY issued_at, rowid",
            )
            .map_err(read())?;
        let rows = stmt
            .query_map(params![company_key(company)], |r| {
                Ok(ContractLicense {
                    license_id: r.get(0)?,
                    project: r.get(1)?,
                    kind: r.get(2)?,
                    version: r.get(3)?,
                    max_nodes: u32::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                    expiry: r.get(5)?,
                    issued_at: Timestamp(u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0)),
                })
            })
            .map_err(read())?;
        rows.collect::<Result<_, _>>().map_err(read())
    }
}
