"""Label sets of the two corpora: the one place these facts live."""

N2C2_ENTITY_LABELS = (
    "Drug",
    "Strength",
    "Dosage",
    "Duration",
    "Frequency",
    "Form",
    "Route",
    "Reason",
    "ADE",
)

# Relation types are "<Attribute>-Drug"; Arg1 is the attribute, Arg2 the Drug.
N2C2_RELATION_TYPES = tuple(f"{label}-Drug" for label in N2C2_ENTITY_LABELS if label != "Drug")

HANDOVER_OUTSIDE = "NA"

# The 35 categories that occur in CLEF eHealth 2016 Task 1 training data (Set 1).
HANDOVER_TRAINING_CATEGORIES = (
    "PatientIntroduction_GivenNames/Initials",
    "PatientIntroduction_Lastname",
    "PatientIntroduction_Ageinyears",
    "PatientIntroduction_Gender",
    "PatientIntroduction_CurrentRoom",
    "PatientIntroduction_CurrentBed",
    "PatientIntroduction_UnderDr_GivenNames/Initials",
    "PatientIntroduction_UnderDr_Lastname",
    "PatientIntroduction_AdmissionReason/Diagnosis",
    "PatientIntroduction_Allergy",
    "PatientIntroduction_ChronicCondition",
    "PatientIntroduction_Disease/ProblemHistory",
    "PatientIntroduction_CarePlan",
    "MyShift_Status",
    "MyShift_Contraption",
    "MyShift_Input/Diet",
    "MyShift_Output/Diuresis/BowelMovement",
    "MyShift_Wounds/Skin",
    "MyShift_ActivitiesOfDailyLiving",
    "MyShift_RiskManagement",
    "MyShift_OtherObservation",
    "Appointment/Procedure_Status",
    "Appointment/Procedure_Description",
    "Appointment/Procedure_ClinicianGivenNames/Initials",
    "Appointment/Procedure_ClinicianLastname",
    "Appointment/Procedure_Day",
    "Appointment/Procedure_Time",
    "Appointment/Procedure_City",
    "Appointment/Procedure_Ward",
    "Medication_Medicine",
    "Medication_Dosage",
    "Medication_Status",
    "Future_Alert/Warning/AbnormalResult",
    "Future_Goal/TaskToBeCompleted/ExpectedOutcome",
    "Future_Discharge/TransferPlan",
)

# In the category set but absent from training data.
HANDOVER_EXTRA_CATEGORIES = (
    "PatientIntroduction_Title",
    "Appointment/Procedure_ClinicianTitle",
    "Appointment/Procedure_Hospital",
)
