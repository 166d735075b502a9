using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Evently.Domain.Infrastructure;

/// <summary>
/// A Lua script called by its SHA1 (EVALSHA): the hot paths send a 40-byte digest instead of the script, and
/// Redis skips hashing it; a server that does not know it yet (a restart) gets it once with EVAL.
/// </summary>
public sealed class RedisScript(string source)
{
    private readonly byte[] _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(source));

    public async Task<RedisResult> EvaluateAsync(IDatabase db, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await db.ScriptEvaluateAsync(_sha1, keys, values);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await db.ScriptEvaluateAsync(source, keys, values);
        }
    }
}
