package api_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestBackupOperationsAuthorizeTheirResources: backups, restores and
// exports are authorized on the resources the Service Authorization
// Reference gives them (a backup's ARN, the source table's, an export's;
// "*" for the lists), and a restore also needs read and write on its
// target table (the Developer Guide, "Using IAM with DynamoDB backup and
// restore"), so a policy scoped to one backup or table allows exactly that.
func TestBackupOperationsAuthorizeTheirResources(t *testing.T) {
	// Made before the server, so that it is removed after the server
	// closed (cleanups run last first): the export writes into it in the
	// background (removing it first failed with "directory not empty").
	exportDir := t.TempDir()
	s := eddytest.Start(t, server.Options{Principal: userARN})
	admin, _ := iamClients(s, "admin")
	if err := s.Policies().Put(userARN("admin"), "all", []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)); err != nil {
		t.Fatal(err)
	}
	createTable(t, admin, "Src", false)
	if _, err := admin.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Src"), Item: map[string]types.AttributeValue{"pk": S("a")}}); err != nil {
		t.Fatal(err)
	}
	bk, err := admin.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("Src"), BackupName: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	backupArn := aws.ToString(bk.BackupDetails.BackupArn)
	other, err := admin.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("Src"), BackupName: aws.String("other")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("Src"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	table := "arn:aws:dynamodb:us-east-1:" + iamAccount + ":table/"
	if err := s.Policies().Put(userARN("ops"), "scoped", []byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["dynamodb:DescribeBackup","dynamodb:RestoreTableFromBackup"],"Resource":"`+backupArn+`"},
		{"Effect":"Allow","Action":["dynamodb:RestoreTableToPointInTime","dynamodb:ExportTableToPointInTime"],"Resource":"`+table+`Src"},
		{"Effect":"Allow","Action":"dynamodb:DescribeExport","Resource":"`+table+`Src/export/*"},
		{"Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:UpdateItem","dynamodb:DeleteItem","dynamodb:GetItem","dynamodb:Query","dynamodb:Scan","dynamodb:BatchWriteItem"],"Resource":"`+table+`Copy*"},
		{"Effect":"Allow","Action":["dynamodb:ListBackups","dynamodb:ListExports"],"Resource":"*"}]}`)); err != nil {
		t.Fatal(err)
	}
	ops, _ := iamClients(s, "ops")
	denied := func(err error, action, resource string) {
		t.Helper()
		apiErr(t, err, "AccessDeniedException", "User: "+userARN("ops")+" is not authorized to perform: "+action+" on resource: "+resource+
			" because no identity-based policy allows the "+action+" action")
	}

	if _, err := ops.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: aws.String(backupArn)}); err != nil {
		t.Fatalf("DescribeBackup of the allowed backup: %v", err)
	}
	_, err = ops.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: other.BackupDetails.BackupArn})
	denied(err, "dynamodb:DescribeBackup", aws.ToString(other.BackupDetails.BackupArn))
	_, err = ops.DeleteBackup(ctx, &dynamodb.DeleteBackupInput{BackupArn: aws.String(backupArn)})
	denied(err, "dynamodb:DeleteBackup", backupArn)
	if _, err := ops.ListBackups(ctx, &dynamodb.ListBackupsInput{TableName: aws.String("Src")}); err != nil {
		t.Fatalf("ListBackups (resource *): %v", err)
	}

	if _, err := ops.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: aws.String(backupArn), TargetTableName: aws.String("Copy1")}); err != nil {
		t.Fatalf("RestoreTableFromBackup of the allowed backup into Copy1: %v", err)
	}
	_, err = ops.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: aws.String(backupArn), TargetTableName: aws.String("Elsewhere")})
	denied(err, "dynamodb:PutItem", table+"Elsewhere")
	if _, err := ops.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{SourceTableName: aws.String("Src"),
		TargetTableName: aws.String("Copy2"), UseLatestRestorableTime: aws.Bool(true)}); err != nil {
		t.Fatalf("RestoreTableToPointInTime of Src into Copy2: %v", err)
	}
	createTable(t, admin, "Private", false)
	_, err = ops.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{SourceTableArn: aws.String(table + "Private"),
		TargetTableName: aws.String("Copy3"), UseLatestRestorableTime: aws.Bool(true)})
	denied(err, "dynamodb:RestoreTableToPointInTime", table+"Private")

	exp, err := ops.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: aws.String(table + "Src"),
		S3Bucket: aws.String("file://" + exportDir)})
	if err != nil {
		t.Fatalf("ExportTableToPointInTime of Src: %v", err)
	}
	eddytest.WaitFor(t, "Src's export to end", time.Minute, func() bool {
		d, err := ops.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: exp.ExportDescription.ExportArn})
		if err != nil {
			t.Fatalf("DescribeExport of Src's export: %v", err)
		}
		return d.ExportDescription.ExportStatus != types.ExportStatusInProgress
	})
	_, err = ops.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: aws.String(table + "Private"),
		S3Bucket: aws.String("file://" + exportDir)})
	denied(err, "dynamodb:ExportTableToPointInTime", table+"Private")
}
