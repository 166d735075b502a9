using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace Evently.Tests.Unit;

// The chaos soak's 500 on a cancel (seed 30): when a statement loses its socket MySqlConnector closes the connection,
// and the next command on it (the commit) throws InvalidOperationException, not a MySqlException. The server has
// rolled the transaction back: the strategy tries again, after its verification, as for any lost connection.
public sealed class DatabaseRetryRulesTests
{
    [Fact]
    public async Task A_command_on_a_connection_the_driver_has_closed_is_tried_again()
    {
        var options = new DbContextOptionsBuilder<EventlyDbContext>();
        DatabaseExtensions.Configure(options, "Server=127.0.0.1;Port=1;Database=evently", ServerVersion.Parse("10.11.0-mariadb"));
        await using var db = new EventlyDbContext(options.Options);
        await using var closed = new MySqlConnection("Server=127.0.0.1;Port=1");
        var commitOnClosed = await Assert.ThrowsAsync<InvalidOperationException>(() => new MySqlCommand("COMMIT", closed).ExecuteNonQueryAsync());

        var tries = 0;
        var result = await db.Database.CreateExecutionStrategy().ExecuteAsync(0,
            (_, _, _) => ++tries == 1 ? Task.FromException<int>(commitOnClosed) : Task.FromResult(tries), null, CancellationToken.None);

        Assert.Equal(2, result);
    }
}
