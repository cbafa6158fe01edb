package io.fleetpulse.sink;

import java.util.List;
import org.jdbi.v3.sqlobject.config.RegisterConstructorMapper;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlBatch;
import org.jdbi.v3.sqlobject.statement.SqlQuery;

/** The sink's consumer positions in {@code sink_offset}, the source of truth for where to resume. */
interface OffsetDao {

    @SqlQuery("SELECT topic, partition, next_offset FROM sink_offset WHERE consumer_group = :group")
    @RegisterConstructorMapper(StoredOffset.class)
    List<StoredOffset> offsets(@Bind("group") String group);

    @SqlBatch("INSERT INTO sink_offset (consumer_group, topic, partition, next_offset, updated_at)"
            + " VALUES (:group, :topic, :partition, :nextOffset, now())"
            + " ON CONFLICT (consumer_group, topic, partition)"
            + " DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = EXCLUDED.updated_at")
    void store(@Bind("group") String group, @BindMethods List<StoredOffset> offsets);

    @SqlQuery("SELECT 1")
    int ping();
}
