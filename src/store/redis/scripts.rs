//! The Lua scripts that write, swap and end sessions together with their index sets, atomically
//! in Redis.

use super::SessionFilter;

/// Lua shared by the scripts: `index(member, at)` adds the session `member` (its id hash) to
/// the index sets `KEYS[2..]` and makes each live at least until `at` (ms), pruning members
/// whose session is gone once a set grows past 16.
const INDEX_LUA: &str = r"
local function index(member, at)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  for i = 2, #KEYS do
    redis.call('SADD', KEYS[i], member)
    if redis.call('SCARD', KEYS[i]) > 16 then
      for _, m in ipairs(redis.call('SMEMBERS', KEYS[i])) do
        if redis.call('EXISTS', ARGV[#ARGV] .. m) == 0 then redis.call('SREM', KEYS[i], m) end
      end
    end
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 or now + ttl < tonumber(at) then redis.call('PEXPIREAT', KEYS[i], at) end
  end
end
";

/// Stores a session: `KEYS[1]` the session key, `KEYS[2..]` its index sets; `ARGV`: the
/// record, the expiry (ms), the id hash, the change channel, the session key prefix. Replacing
/// a session is announced on the change channel (the id hash), in the same script.
pub(super) static STORE_SCRIPT: std::sync::LazyLock<::redis::Script> =
    std::sync::LazyLock::new(|| {
        ::redis::Script::new(&format!(
            "{INDEX_LUA}
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
index(ARGV[3], ARGV[2])
if existed == 1 then redis.call('PUBLISH', ARGV[4], ARGV[3]) end
return 1
"
        ))
    });

/// Compare-and-set on a session key, atomic in Redis: the stored record's `version` (absent:
/// 0) must equal `ARGV[1]`; then the key is set to `ARGV[2]` expiring at `ARGV[3]` ms (`0`:
/// deleted) and indexed in `KEYS[2..]` (`ARGV[4]`: the id hash, `ARGV[6]`: the key prefix),
/// and the change announced on the channel `ARGV[5]`.
pub(super) static CAS_SCRIPT: std::sync::LazyLock<::redis::Script> =
    std::sync::LazyLock::new(|| {
        ::redis::Script::new(&format!(
            "{INDEX_LUA}
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, rec = pcall(cjson.decode, v)
if not ok or type(rec) ~= 'table' then return redis.error_reply('corrupt session record') end
local cur = rec['version'] or 0
if tostring(cur) ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
  index(ARGV[4], ARGV[3])
end
redis.call('PUBLISH', ARGV[5], ARGV[4])
return 1
"
        ))
    });

/// Ends the sessions of the index set `KEYS[1]`: each member's session (`ARGV[1]` .. member)
/// that matches the filter (`ARGV[2]`: `user`, `sid` or `sub`; `ARGV[3..5]` its values) is
/// deleted, announced on the change channel `ARGV[6]` and returned; members whose session is
/// gone or belongs elsewhere leave the set.
pub(super) static END_SCRIPT: std::sync::LazyLock<::redis::Script> =
    std::sync::LazyLock::new(|| {
        ::redis::Script::new(
            r"
local function matches(rec)
  if type(rec) ~= 'table' then return false end
  if ARGV[2] == 'user' then
    return type(rec['user']) == 'table' and rec['user']['id'] == ARGV[3]
  end
  local idp = rec['idp']
  if rec['provider'] ~= ARGV[3] or type(idp) ~= 'table' or idp['issuer'] ~= ARGV[4] then
    return false
  end
  if ARGV[2] == 'sid' then return idp['sid'] == ARGV[5] end
  return idp['subject'] == ARGV[5]
end
local out = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = ARGV[1] .. m
  local v = redis.call('GET', k)
  if not v then
    redis.call('SREM', KEYS[1], m)
  else
    local ok, rec = pcall(cjson.decode, v)
    if ok and matches(rec) then
      redis.call('DEL', k)
      redis.call('PUBLISH', ARGV[6], m)
      redis.call('SREM', KEYS[1], m)
      table.insert(out, v)
    elseif ok then
      redis.call('SREM', KEYS[1], m)
    end
  end
end
return out
",
        )
    });

/// Deletes the session key `KEYS[1]` and, if it was there, announces it on the change channel
/// `ARGV[1]` (`ARGV[2]`: the id hash).
pub(super) static DELETE_SCRIPT: std::sync::LazyLock<::redis::Script> =
    std::sync::LazyLock::new(|| {
        ::redis::Script::new(
            r"
if redis.call('DEL', KEYS[1]) == 1 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return 1
",
        )
    });

/// The arguments of `END_SCRIPT` that say what a filter selects.
pub(super) fn filter_args(filter: &SessionFilter) -> [&str; 4] {
    match filter {
        SessionFilter::User(id) => ["user", &id.0, "", ""],
        SessionFilter::IdpSession {
            provider,
            issuer,
            sid,
        } => ["sid", provider, issuer, sid],
        SessionFilter::IdpSubject {
            provider,
            issuer,
            subject,
        } => ["sub", provider, issuer, subject],
    }
}
