using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

namespace Evently.Domain.Infrastructure;

/// <summary>
/// Pomelo's retries on transient MySQL errors (three, within about two seconds, so that a request still
/// answers within its deadline), plus a connection lost mid-statement: the outcome is then unknown (the
/// server may have committed before the reply was lost), so the operation is retried after its
/// verification, which asks the database what happened (see BookingService.VerifyBookedAsync).
/// </summary>
public sealed class EventlyExecutionStrategy(ExecutionStrategyDependencies dependencies)
    : MySqlRetryingExecutionStrategy(dependencies, maxRetryCount: 3, maxRetryDelay: TimeSpan.FromSeconds(1), errorNumbersToAdd: null)
{
    protected override bool ShouldRetryOn(Exception exception) =>
        base.ShouldRetryOn(exception) || IsLostConnection(exception);

    private static bool IsLostConnection(Exception? exception) => exception switch
    {
        null => false,
        SocketException or EndOfStreamException or IOException => true,
        // A connection the driver closed after a failure, used again (a commit after a statement lost its socket):
        // the server has rolled the transaction back.
        InvalidOperationException { Source: "MySqlConnector" } => true,
        MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } => true,
        _ => IsLostConnection(exception.InnerException)
    };
}
