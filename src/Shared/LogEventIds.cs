namespace RoutingCluster;

/// <summary>
/// The <see cref="Microsoft.Extensions.Logging.EventId"/> of every <c>[LoggerMessage]</c> of the silo host, the grains,
/// the persistence and the client: one table, so that an id names one message and a log query by id finds only it.
/// Every log method takes its id from here, and no two share one (checked by a test over the compiled assemblies).
/// </summary>
/// <remarks>
/// Ranges by area: 1–9 and 20–29 persistence, 10–19 hosting, 100–199 grains, 300–399 agent hub and wallboard, 400–499 client,
/// 500–599 access, 600–699 privacy.
/// A shared source file (src/Shared), compiled into each project that logs, the client package among them.
/// </remarks>
internal static class LogEventIds
{
    // Persistence: the PostgreSQL schema and its migrations.
    public const int SchemaUpToDate = 1;
    public const int MigrationApplied = 2;
    public const int MigrationChanged = 3;
    public const int SchemaNewerThanBuild = 4;
    public const int DatabaseNotReachable = 5;
    public const int SchemaReady = 6;

    // Hosting: shutdown watchdog, storage profile, silo start.
    public const int ShutdownArmed = 10;
    public const int ShutdownWatchdogEnding = 11;
    public const int MemoryStorage = 12;
    public const int SiloProfile = 13;

    // Persistence: session storage, session index, statistics store.
    public const int SessionVersionConflict = 20;
    public const int SessionStorageFailed = 21;
    public const int SessionIndexFailed = 22;
    public const int StatsStoreFailed = 23;
    public const int WriteBatchRefused = 24;
    public const int WriteBatchFailed = 25;
    public const int GrainStorageFailed = 26;
    public const int GrainStateVersionConflict = 27;
    public const int AuditWriteFailed = 28;

    // Hosting: admission of new sessions.
    public const int AdmissionShedding = 18;

    // Grains: sessions.
    public const int SessionQueued = 100;
    public const int SessionOffered = 101;
    public const int SessionTransition = 102;
    public const int SessionRefused = 103;
    public const int SessionCallbackRequested = 104;

    // Grains: agents.
    public const int OfferMissed = 110;
    public const int AgentStateChanged = 111;
    public const int StaleHoldReleased = 112;
    public const int ClaimedOfferFailed = 113;
    public const int OfferNotShownInTime = 114;

    // Grains: queues and routing work.
    public const int OfferAttemptFailed = 120;
    public const int BackgroundWorkFailed = 121;
    public const int SessionOverflowed = 122;
    public const int OrphanedOfferReturned = 123;
    public const int QueueRecordWriteFailed = 124;
    public const int EventsDropped = 125;

    // Grains: recovery at silo start.
    public const int RecoveryWoke = 130;
    public const int QueueRecovered = 131;
    public const int QueueLostSession = 132;
    public const int RecoveryWakeFailed = 133;

    // Grains: statistics.
    public const int StatsFlushFailed = 140;
    public const int StatsSendFailed = 141;
    public const int StatsPersistFailed = 142;
    public const int StatsLostAtDeactivation = 143;
    public const int StatsNotHandedOver = 144;

    // Grains: metrics.
    public const int QueueGaugeSourceFailed = 190;

    // Agent hub: desktop connections and their registration with the agents' grains.
    public const int DesktopRenewFailed = 300;
    public const int DesktopSignedIn = 301;
    public const int DesktopDisconnected = 302;
    public const int DesktopRegisterAgainFailed = 303;
    public const int SiloDeclaredDead = 304;
    public const int DesktopsRegisteredAgain = 305;
    public const int DesktopsRegisterAgainRetrying = 306;
    public const int DesktopsRegisterAgainFailed = 307;
    public const int MembershipWatchFailed = 308;
    public const int DesktopsRegisterAgainBroke = 309;

    // Wallboard.
    public const int WallboardReadFailed = 310;

    // Alerts and staffing.
    public const int AlertRaised = 350;
    public const int AlertCleared = 351;
    public const int StaffingSimulationCut = 352;

    // Client: the agent desktop client.
    public const int DesktopHandlerFailed = 400;
    public const int DesktopSignInAgainFailed = 401;
    public const int DesktopFailedOver = 402;
    public const int DesktopSiloConnectFailed = 403;

    // Access: authentication, authorization and rate limits at the silo host's edge.
    public const int DevSigningKeyGenerated = 500;
    public const int AccessRefused = 501;
    public const int RateLimited = 502;
    public const int DevTokenIssued = 503;
    public const int HubSignInRefused = 504;
    public const int AuditRecordLost = 505;
    public const int ConfigurationRefusedWithoutAudit = 506;

    // Privacy: the key of customers' pseudonyms.
    public const int PseudonymKeyGenerated = 600;
}
