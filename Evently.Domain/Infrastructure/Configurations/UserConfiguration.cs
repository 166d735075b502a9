using Evently.Domain.Auth;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Evently.Domain.Infrastructure.Configurations;

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> user)
    {
        user.ToTable("users");
        user.Property(u => u.Email).HasMaxLength(256);
        user.Property(u => u.NormalizedEmail).HasMaxLength(256);
        user.HasIndex(u => u.NormalizedEmail).IsUnique();
        user.Property(u => u.Name).HasMaxLength(200);
        user.Property(u => u.PasswordHash).HasMaxLength(512);
        user.Property(u => u.Role).HasMaxLength(16);
    }
}
