namespace RoutingCluster.SiloHost.Hosting;

/// <summary>
/// Admission of new sessions (section <c>Admission</c>): when this silo's measured delay or the creates it has in
/// flight pass these bounds, <c>POST /v1/sessions</c> is refused with 503 and <c>Retry-After</c> before any grain
/// is called. Priority customers (a segment, or an age of 65 or more) have bounds of their own, set higher, so
/// they are refused last. Nothing else is ever refused by admission: agent actions, reads and sessions already
/// created go through.
/// </summary>
public sealed class AdmissionOptions
{
    public const string Section = "Admission";

    /// <summary>Whether new sessions are refused under overload at all (false: every create is taken).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The measured delay (see <see cref="SessionAdmission.Delay"/>) above which new sessions are refused.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The same bound for priority customers (elderly, disabled, military, VIP).</summary>
    public TimeSpan PriorityMaxDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Creates being served at once by this silo beyond which a new one is refused.</summary>
    public int MaxCreatesInFlight { get; set; } = 128;

    /// <summary>The same bound for priority customers.</summary>
    public int PriorityMaxCreatesInFlight { get; set; } = 256;

    /// <summary>How often the thread pool's queueing delay is sampled.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Delays older than two windows no longer count.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A delay counts only once this many samples of it are recent (a few slow first calls do not refuse anyone).</summary>
    public int MinimumSamples { get; set; } = 16;

    /// <summary>The <c>Retry-After</c> of a refusal, in seconds.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>The age from which a customer counts as a priority customer when no segment says so (the queues'
    /// default elderly age; admission decides before any queue is read).</summary>
    public int PriorityAge { get; set; } = 65;
}
