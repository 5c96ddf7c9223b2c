package config

// The object model of config.data as Ganeti 3.0.2's Haskell daemons parse
// and re-serialize it (src/Ganeti/Objects.hs, src/Ganeti/Objects/*.hs),
// written as data. The helpers below are named after the Template Haskell
// field constructors of src/Ganeti/THH.hs and src/Ganeti/THH/Field.hs so
// that each declaration can be read side by side with its Haskell original;
// normalize.go holds the single walker that validates a parsed config.data
// against it and writes the normalized document.

import (
	"strconv"

	"github.com/goconfd/goconfd/internal/tjson"
)

// kind is what a schemaType accepts and how it writes it back.
type kind uint8

const (
	// kString is a Haskell String: a JSON string, or (a Text.JSON quirk)
	// an array of one-character strings, which is written back joined.
	kString kind = iota
	// kNonEmptyString is a kString that must not be empty.
	kNonEmptyString
	// kBytes is a strict ByteString (uuids): a JSON string only, each
	// character cut to its low 8 bits by Data.ByteString.Char8.pack.
	kBytes
	// kBool is true or false.
	kBool
	// kInt is an Int: any number, rounded half to even, wrapped to 64 bits.
	kInt
	// kNonNegInt is an Int that must not be negative after rounding.
	kNonNegInt
	// kInteger is an Integer: any number, rounded half to even, unbounded.
	kInteger
	// kDouble is a Double: the nearest double, written back whole numbers
	// as integers.
	kDouble
	// kTime is a ClockTime read and written as a Double of seconds.
	kTime
	// kUnitInt is an Int that may also be given as a string with a size
	// unit ("512M", "2G"): specialNumericalField parseUnitAssumeBinary.
	kUnitInt
	// kEnum is a string out of enum (read like a kString).
	kEnum
	// kIntEnum is an Int out of ints.
	kIntEnum
	// kList is a JSON array of elem, order kept.
	kList
	// kSet is a Set of strings: written sorted, without duplicates.
	kSet
	// kTuple is a JSON array with exactly one element per elems entry.
	kTuple
	// kMap is a Container: an object with free keys and elem values,
	// written in ascending key order; a repeated key keeps its last value.
	kMap
	// kEnumMap is a GenericContainer keyed by enum (Hypervisor): keys must
	// be in enum and are written in the enum's declaration order.
	kEnumMap
	// kObject is a buildObject record.
	kObject
	// kAny is a free-form JSValue, copied with its numbers renormalized.
	kAny
	// kCustom is a type with its own reader (custom).
	kCustom
)

// presence says what happens to a field that is absent (or null).
type presence uint8

const (
	// presRequired (simpleField): the key must be there; null is read as
	// a value of the field's type (and usually refused).
	presRequired presence = iota
	// presOptional (optionalField): absent or null means nothing, and the
	// field is left out when written.
	presOptional
	// presDefault (defaultField): absent or null means def; always written.
	presDefault
	// presOmitDefault (notSerializeDefaultField): absent or null means def
	// (an empty map here), and the field is left out when it equals def.
	presOmitDefault
)

// schemaType describes one Haskell type of the object model.
type schemaType struct {
	kind kind
	// name is the Haskell type's name, for error messages.
	name string
	// elem is the element type of kList, kSet, kMap and kEnumMap.
	elem *schemaType
	// elems are the element types of a kTuple.
	elems []*schemaType
	// enum lists the values of a kEnum or the keys of a kEnumMap, in the
	// Haskell declaration order (which is the Ord order).
	enum []string
	// ints lists the values of a kIntEnum.
	ints []int64
	// fields are a kObject's fields in declaration order, which is also
	// the order in which they are checked and written.
	fields []field
	// index maps a kObject's JSON keys to field positions; extra keys that
	// a custom field reads (dev_type) map to -1.
	index map[string]int
	// forthcoming marks buildObjectWithForthcoming objects: a member
	// "forthcoming": true selects the variant in which every field that is
	// not presentInForthcoming is optional.
	forthcoming bool
	// custom reads a kCustom value.
	custom func(w *walker, v *tjson.Value) (tjson.Value, error)
	// facts says which facts a leaf of this type keeps for the indexes
	// (the elements of the nodes, instances and disks maps).
	facts factsKind
}

// factsKind names the facts a leaf keeps (facts.go).
type factsKind uint8

const (
	noFacts factsKind = iota
	nodeFactsKind
	instFactsKind
	diskFactsKind
)

// fieldReader is a customField's reader: it gets the whole object (for the
// extra keys it reads) and the field's value, and returns the members to
// write in the field's place.
type fieldReader func(w *walker, obj, v *tjson.Value) ([]tjson.Member, error)

// field is one field of a kObject.
type field struct {
	name     string
	typ      *schemaType
	presence presence
	// def is written for an absent presDefault field.
	def tjson.Value
	// inForthcoming (presentInForthcoming) keeps the field required in the
	// forthcoming variant.
	inForthcoming bool
	// read replaces typ for a customField.
	read fieldReader
	// extraKeys are further keys the custom reader consumes.
	extraKeys []string
}

// Field constructors, after src/Ganeti/THH.hs.

func simpleField(name string, t *schemaType) field { return field{name: name, typ: t} }

func optionalField(f field) field {
	f.presence = presOptional
	return f
}

func defaultField(def tjson.Value, f field) field {
	f.presence = presDefault
	f.def = def
	return f
}

// notSerializeDefaultField only supports an empty map as default, the only
// one Ganeti uses.
func notSerializeDefaultField(f field) field {
	f.presence = presOmitDefault
	f.def = emptyObject
	return f
}

func presentInForthcoming(f field) field {
	f.inForthcoming = true
	return f
}

func customField(read fieldReader, extraKeys []string, f field) field {
	f.read = read
	f.extraKeys = extraKeys
	return f
}

// Field groups, after src/Ganeti/THH/Field.hs.

func timeStampFields() []field {
	return []field{
		defaultField(zeroNumber, simpleField("ctime", timeT)),
		defaultField(zeroNumber, simpleField("mtime", timeT)),
	}
}

func uuidFields() []field {
	return []field{presentInForthcoming(simpleField("uuid", bytesT))}
}

func serialFields() []field {
	return []field{presentInForthcoming(simpleField("serial_no", intT))}
}

func tagsFields() []field {
	return []field{defaultField(emptyArray, simpleField("tags", setOf(stringT)))}
}

// Object constructors.

// buildObject is a record: fields in order, no other keys allowed.
func buildObject(name string, groups ...[]field) *schemaType {
	t := &schemaType{kind: kObject, name: name}
	setFields(t, groups...)
	return t
}

// buildObjectWithForthcoming is a record with a forthcoming variant.
func buildObjectWithForthcoming(name string, groups ...[]field) *schemaType {
	t := buildObject(name, groups...)
	t.forthcoming = true
	return t
}

func setFields(t *schemaType, groups ...[]field) {
	t.fields = nil
	for _, g := range groups {
		t.fields = append(t.fields, g...)
	}
	t.index = make(map[string]int, len(t.fields))
	for i, f := range t.fields {
		t.index[f.name] = i
		for _, k := range f.extraKeys {
			t.index[k] = -1
		}
	}
}

// buildParam returns the filled (every field required) and the partial
// (every field optional) record of a parameter set, like THH's buildParam.
func buildParam(name string, fields ...field) (filled, partial *schemaType) {
	opt := make([]field, len(fields))
	for i, f := range fields {
		opt[i] = optionalField(f)
	}
	return buildObject("Filled"+name+"Params", fields),
		buildObject("Partial"+name+"Params", opt)
}

// Type constructors.

func listOf(t *schemaType) *schemaType { return &schemaType{kind: kList, elem: t} }

func setOf(t *schemaType) *schemaType { return &schemaType{kind: kSet, elem: t} }

// container is Ganeti.JSON's Container: string keys.
func container(t *schemaType) *schemaType { return &schemaType{kind: kMap, elem: t} }

// genericContainer is a GenericContainer keyed by the enum keys.
func genericContainer(keys *schemaType, t *schemaType) *schemaType {
	return &schemaType{kind: kEnumMap, name: keys.name, enum: keys.enum, elem: t}
}

func tuple(ts ...*schemaType) *schemaType { return &schemaType{kind: kTuple, elems: ts} }

// declareLADT is a string enum (THH's declareLADT + makeJSONInstance).
func declareLADT(name string, values ...string) *schemaType {
	return &schemaType{kind: kEnum, name: name, enum: values}
}

// declareIADT is an Int enum.
func declareIADT(name string, values ...int64) *schemaType {
	return &schemaType{kind: kIntEnum, name: name, ints: values}
}

func customType(name string, read func(w *walker, v *tjson.Value) (tjson.Value, error)) *schemaType {
	return &schemaType{kind: kCustom, name: name, custom: read}
}

// Values used as defaults.
var (
	emptyObject = tjson.Value{Kind: tjson.Object}
	emptyArray  = tjson.Value{Kind: tjson.Array}
	emptyString = tjson.Value{Kind: tjson.String}
	zeroNumber  = tjson.Value{Kind: tjson.Number, Str: "0"}
)

func stringValue(s string) tjson.Value { return tjson.Value{Kind: tjson.String, Str: s} }

func numberValue(s string) tjson.Value { return tjson.Value{Kind: tjson.Number, Str: s} }

func intValue(n int64) tjson.Value { return numberValue(strconv.FormatInt(n, 10)) }

// Basic types.
var (
	stringT         = &schemaType{kind: kString, name: "String"}
	nonEmptyStringT = &schemaType{kind: kNonEmptyString, name: "NonEmptyString"}
	bytesT          = &schemaType{kind: kBytes, name: "ByteString"}
	boolT           = &schemaType{kind: kBool, name: "Bool"}
	intT            = &schemaType{kind: kInt, name: "Int"}
	nonNegIntT      = &schemaType{kind: kNonNegInt, name: "NonNegative Int"}
	integerT        = &schemaType{kind: kInteger, name: "Integer"}
	doubleT         = &schemaType{kind: kDouble, name: "Double"}
	timeT           = &schemaType{kind: kTime, name: "ClockTime"}
	unitIntT        = &schemaType{kind: kUnitInt, name: "Int"}
	anyT            = &schemaType{kind: kAny, name: "JSValue"}
)

// Enumerations of src/Ganeti/Types.hs and src/Ganeti/Objects.hs, values in
// declaration order.
var (
	hypervisorT       = declareLADT("Hypervisor", "kvm", "xen-pvm", "chroot", "xen-hvm", "lxc", "fake")
	diskTemplateT     = declareLADT("DiskTemplate", "diskless", "file", "sharedfile", "plain", "blockdev", "drbd", "rbd", "ext", "gluster")
	allocPolicyT      = declareLADT("AllocPolicy", "preferred", "last_resort", "unallocable")
	nicModeT          = declareLADT("NICMode", "bridged", "routed", "openvswitch", "pool")
	diskModeT         = declareLADT("DiskMode", "ro", "rw")
	adminStateT       = declareLADT("AdminState", "offline", "down", "up")
	adminStateSourceT = declareLADT("AdminStateSource", "admin", "user")
	sshKeyTypeT       = declareLADT("SshKeyType", "rsa", "dsa", "ecdsa")
	fileDriverT       = declareLADT("FileDriver", "loop", "blktap", "blktap2")
	blockDriverT      = declareLADT("BlockDriver", "manual")
	// ipFamilyT holds AF_INET and AF_INET6 of Linux (AutoConf's
	// pyAfInet4/pyAfInet6).
	ipFamilyT = declareIADT("IpFamily", 2, 10)
)

// configSchema is ConfigData, the whole of config.data.
var configSchema = buildConfigSchema()

func buildConfigSchema() *schemaType {
	// Free-form parameter maps (Container JSValue).
	hvParams := container(anyT)
	osParams := container(stringT)
	diskParams := container(anyT)
	groupDiskParams := container(diskParams)
	hvState := container(anyT)
	diskState := container(anyT)

	// src/Ganeti/Objects/Nic.hs
	filledNic, partialNic := buildParam("Nic",
		simpleField("mode", nicModeT),
		simpleField("link", stringT),
		simpleField("vlan", stringT),
	)
	nic := buildObject("PartialNic",
		[]field{
			simpleField("mac", stringT),
			optionalField(simpleField("ip", stringT)),
			simpleField("nicparams", partialNic),
			optionalField(simpleField("network", stringT)),
			optionalField(simpleField("name", stringT)),
		},
		uuidFields(),
	)

	// src/Ganeti/Objects/Instance.hs
	filledBe, partialBe := buildParam("Be",
		simpleField("minmem", unitIntT),
		simpleField("maxmem", unitIntT),
		simpleField("vcpus", intT),
		simpleField("auto_balance", boolT),
		simpleField("always_failover", boolT),
		simpleField("spindle_use", intT),
	)
	instance := buildObjectWithForthcoming("Instance",
		[]field{
			simpleField("name", stringT),
			simpleField("primary_node", stringT),
			simpleField("os", stringT),
			simpleField("hypervisor", hypervisorT),
			defaultField(emptyObject, simpleField("hvparams", hvParams)),
			defaultField(emptyObject, simpleField("beparams", partialBe)),
			defaultField(emptyObject, simpleField("osparams", osParams)),
			defaultField(emptyObject, simpleField("osparams_private", container(stringT))),
			simpleField("admin_state", adminStateT),
			simpleField("admin_state_source", adminStateSourceT),
			defaultField(emptyArray, simpleField("nics", listOf(nic))),
			defaultField(emptyArray, simpleField("disks", listOf(stringT))),
			simpleField("disks_active", boolT),
			optionalField(simpleField("network_port", intT)),
		},
		timeStampFields(),
		uuidFields(),
		serialFields(),
		tagsFields(),
	)

	// src/Ganeti/Objects/Disk.hs; children are Disks again.
	disk := buildObjectWithForthcoming("Disk")
	setFields(disk,
		[]field{
			customField(readLogicalID, []string{"dev_type"},
				simpleField("logical_id", nil)),
			defaultField(emptyArray, simpleField("children", listOf(disk))),
			defaultField(emptyArray, simpleField("nodes", listOf(stringT))),
			defaultField(emptyString, simpleField("iv_name", stringT)),
			simpleField("size", intT),
			defaultField(stringValue("rw"), simpleField("mode", diskModeT)),
			optionalField(simpleField("name", stringT)),
			optionalField(simpleField("spindles", intT)),
			optionalField(simpleField("params", diskParams)),
		},
		uuidFields(),
		serialFields(),
		timeStampFields(),
	)

	// src/Ganeti/Objects.hs
	network := buildObject("Network",
		[]field{
			simpleField("name", nonEmptyStringT),
			optionalField(simpleField("mac_prefix", stringT)),
			simpleField("network", customType("Ip4Network", readIP4Network)),
			optionalField(simpleField("network6", stringT)),
			optionalField(simpleField("gateway", customType("Ip4Address", readIP4Address))),
			optionalField(simpleField("gateway6", stringT)),
			optionalField(simpleField("reservations", customType("AddressPool", readAddressPool))),
			optionalField(simpleField("ext_reservations", customType("AddressPool", readAddressPool))),
		},
		uuidFields(),
		timeStampFields(),
		serialFields(),
		tagsFields(),
	)

	dataCollector := buildObject("DataCollectorConfig",
		[]field{
			simpleField("active", boolT),
			simpleField("interval", integerT),
		},
	)

	filledISpec, partialISpec := buildParam("ISpec",
		simpleField("memory-size", intT),
		simpleField("disk-size", intT),
		simpleField("disk-count", intT),
		simpleField("cpu-count", intT),
		simpleField("nic-count", intT),
		simpleField("spindle-use", intT),
	)
	minMaxISpecs := buildObject("MinMaxISpecs",
		[]field{
			simpleField("min", filledISpec),
			simpleField("max", filledISpec),
		},
	)
	partialIPolicy := buildObject("PartialIPolicy",
		[]field{
			optionalField(simpleField("minmax", listOf(minMaxISpecs))),
			optionalField(simpleField("std", partialISpec)),
			optionalField(simpleField("spindle-ratio", doubleT)),
			optionalField(simpleField("vcpu-ratio", doubleT)),
			optionalField(simpleField("disk-templates", listOf(diskTemplateT))),
		},
	)
	filledIPolicy := buildObject("FilledIPolicy",
		[]field{
			simpleField("minmax", listOf(minMaxISpecs)),
			simpleField("std", filledISpec),
			simpleField("spindle-ratio", doubleT),
			simpleField("vcpu-ratio", doubleT),
			simpleField("disk-templates", listOf(diskTemplateT)),
		},
	)

	filledND, partialND := buildParam("ND",
		simpleField("oob_program", stringT),
		simpleField("spindle_count", intT),
		simpleField("exclusive_storage", boolT),
		simpleField("ovs", boolT),
		simpleField("ovs_name", stringT),
		simpleField("ovs_link", stringT),
		simpleField("ssh_port", intT),
		simpleField("cpu_speed", doubleT),
	)

	node := buildObject("Node",
		[]field{
			simpleField("name", stringT),
			simpleField("primary_ip", stringT),
			simpleField("secondary_ip", stringT),
			simpleField("master_candidate", boolT),
			simpleField("offline", boolT),
			simpleField("drained", boolT),
			simpleField("group", stringT),
			simpleField("master_capable", boolT),
			simpleField("vm_capable", boolT),
			simpleField("ndparams", partialND),
			simpleField("powered", boolT),
			notSerializeDefaultField(simpleField("hv_state_static", hvState)),
			notSerializeDefaultField(simpleField("disk_state_static", diskState)),
		},
		timeStampFields(),
		uuidFields(),
		serialFields(),
		tagsFields(),
	)

	nodeGroup := buildObject("NodeGroup",
		[]field{
			simpleField("name", stringT),
			defaultField(emptyArray, simpleField("members", listOf(stringT))),
			simpleField("ndparams", partialND),
			simpleField("alloc_policy", allocPolicyT),
			simpleField("ipolicy", partialIPolicy),
			simpleField("diskparams", groupDiskParams),
			simpleField("networks", container(partialNic)),
			notSerializeDefaultField(simpleField("hv_state_static", hvState)),
			notSerializeDefaultField(simpleField("disk_state_static", diskState)),
		},
		timeStampFields(),
		uuidFields(),
		serialFields(),
		tagsFields(),
	)

	filterRule := buildObject("FilterRule",
		[]field{
			simpleField("watermark", customType("JobId", readJobID)),
			simpleField("priority", nonNegIntT),
			simpleField("predicates", listOf(customType("FilterPredicate", readFilterPredicate))),
			simpleField("action", customType("FilterAction", readFilterAction)),
			simpleField("reason_trail", listOf(tuple(stringT, stringT, integerT))),
		},
		uuidFields(),
	)

	cluster := buildObject("Cluster",
		[]field{
			simpleField("rsahostkeypub", stringT),
			optionalField(simpleField("dsahostkeypub", stringT)),
			simpleField("highest_used_port", intT),
			simpleField("tcpudp_port_pool", listOf(intT)),
			simpleField("mac_prefix", stringT),
			optionalField(simpleField("volume_group_name", stringT)),
			simpleField("reserved_lvs", listOf(stringT)),
			optionalField(simpleField("drbd_usermode_helper", stringT)),
			simpleField("master_node", stringT),
			simpleField("master_ip", stringT),
			simpleField("master_netdev", stringT),
			simpleField("master_netmask", intT),
			simpleField("use_external_mip_script", boolT),
			simpleField("cluster_name", stringT),
			simpleField("file_storage_dir", stringT),
			simpleField("shared_file_storage_dir", stringT),
			simpleField("gluster_storage_dir", stringT),
			simpleField("enabled_hypervisors", listOf(hypervisorT)),
			simpleField("hvparams", genericContainer(hypervisorT, hvParams)),
			simpleField("os_hvp", container(genericContainer(hypervisorT, hvParams))),
			simpleField("beparams", container(filledBe)),
			simpleField("osparams", container(osParams)),
			simpleField("osparams_private_cluster", container(osParams)),
			simpleField("nicparams", container(filledNic)),
			simpleField("ndparams", filledND),
			simpleField("diskparams", groupDiskParams),
			simpleField("candidate_pool_size", intT),
			simpleField("modify_etc_hosts", boolT),
			simpleField("modify_ssh_setup", boolT),
			simpleField("maintain_node_health", boolT),
			simpleField("uid_pool", listOf(tuple(intT, intT))),
			simpleField("default_iallocator", stringT),
			simpleField("default_iallocator_params", container(anyT)),
			simpleField("hidden_os", listOf(stringT)),
			simpleField("blacklisted_os", listOf(stringT)),
			simpleField("primary_ip_family", ipFamilyT),
			simpleField("prealloc_wipe_disks", boolT),
			simpleField("ipolicy", filledIPolicy),
			defaultField(emptyObject, simpleField("hv_state_static", hvState)),
			defaultField(emptyObject, simpleField("disk_state_static", diskState)),
			simpleField("enabled_disk_templates", listOf(diskTemplateT)),
			simpleField("candidate_certs", container(stringT)),
			simpleField("max_running_jobs", intT),
			simpleField("max_tracked_jobs", intT),
			simpleField("install_image", stringT),
			simpleField("instance_communication_network", stringT),
			simpleField("zeroing_image", stringT),
			simpleField("compression_tools", listOf(stringT)),
			simpleField("enabled_user_shutdown", boolT),
			simpleField("data_collectors", container(dataCollector)),
			simpleField("ssh_key_type", sshKeyTypeT),
			simpleField("ssh_key_bits", intT),
		},
		timeStampFields(),
		uuidFields(),
		serialFields(),
		tagsFields(),
	)

	node.facts = nodeFactsKind
	instance.facts = instFactsKind
	disk.facts = diskFactsKind
	return buildObject("ConfigData",
		[]field{
			simpleField("version", intT),
			simpleField("cluster", cluster),
			simpleField("nodes", container(node)),
			simpleField("nodegroups", container(nodeGroup)),
			simpleField("instances", container(instance)),
			simpleField("networks", container(network)),
			simpleField("disks", container(disk)),
			simpleField("filters", container(filterRule)),
		},
		timeStampFields(),
		serialFields(),
	)
}
